"""Customers: the list, and one person's profile, consents and timeline; their data as a
download, its erasure, and the withdrawal of their marketing consent."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, SelectChoice, SelectField
from wtforms.validators import DataRequired

from referral.admin import bp, segments
from referral.admin.forms import ActionForm
from referral.admin.journeys import OUTCOME_NAMES, REASON_NAMES
from referral.admin.rules import LEVEL_NAMES
from referral.forms import Form
from referral.models import Customer
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import consents, customer_tags, privacy
from referral.services import participants as service
from referral.services.journey_stats import customer_timeline
from referral.services.scoping import get_owned

# What each kind of event means, in words a marketer reads on the timeline.
EVENT_WORDS = {
    "entered": _l("Joined the campaign"),
    "signup_confirmed": _l("Confirmed their e-mail address"),
    "referral_confirmed": _l("A friend they invited confirmed"),
    "milestone_reached": _l("Reached a referral milestone"),
    "clicked": _l("Opened a referral link"),
    "survey_completed": _l("Completed the survey"),
    "lottery_entered": _l("Entered the prize draw"),
    "trial_started": _l("Started a free trial"),
    "trial_ending": _l("Free trial about to end"),
    "trial_converted": _l("Turned the free trial into a paid plan"),
    "instant_win_played": _l("Played the instant-win game"),
    "purchase": _l("Made a purchase"),
    "refund": _l("Got a refund"),
    "reward_granted": _l("Received a reward"),
    "message_sent": _l("Was sent a message"),
    "erased": _l("Personal data erased"),
}
REFERRAL_STATUS_WORDS = {
    "referred": _l("through a friend's referral link"),
    "unknown_code": _l("with a referral code that does not exist"),
    "self_referral": _l("with their own referral code (not counted)"),
    "expired": _l("through a referral link older than the attribution window"),
}


@bp.route("/customers")
@role_required(*READ_ROLES)
def customers() -> Any:
    """The workspace's customers, narrowed by the filters of ``admin/segments.py``."""
    return segments.customer_list()


SOURCE_WORDS = {
    "phone": _l("By phone"),
    "mail": _l("By letter"),
    "email": _l("By e-mail"),
    "in_person": _l("In person"),
}
ACTION_WORDS = {"given": _l("Given"), "withdrawn": _l("Withdrawn")}


class EraseForm(Form):
    """Erasure asks the marketer to confirm first: it cannot be undone."""

    understood = BooleanField(
        _l("I understand this cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm the erasure."))],
    )


class WithdrawalForm(Form):
    source = SelectField(
        _l("How the customer asked"),
        choices=[SelectChoice(code, label) for code, label in SOURCE_WORDS.items()],
        validators=[DataRequired()],
    )


def _actor() -> privacy.Actor:
    return privacy.Actor(marketer_id=current_user.id, ip_hash=hash_ip(request.remote_addr))


def _customer_page(
    found: Customer,
    erase: EraseForm | None = None,
    withdrawal: WithdrawalForm | None = None,
    status: int = 200,
) -> Any:
    page = render_template(
        "admin/customer.html",
        **service.customer_view(found),
        journey_steps=customer_timeline(found.id),
        tags=customer_tags.tags_of(found.id),
        tag_form=segments.TagForm(formdata=None),
        journey_reasons=REASON_NAMES,
        journey_outcomes=OUTCOME_NAMES,
        event_words=EVENT_WORDS,
        referral_words=REFERRAL_STATUS_WORDS,
        level_names=LEVEL_NAMES,
        source_words=SOURCE_WORDS,
        action_words=ACTION_WORDS,
        action=ActionForm(),
        erase_form=erase or EraseForm(formdata=None),
        withdrawal_form=withdrawal or WithdrawalForm(formdata=None),
    )
    return page, status


@bp.route("/customers/<int:customer_id>")
@role_required(*READ_ROLES)
def customer(customer_id: int) -> Any:
    return _customer_page(get_owned(Customer, customer_id, g.workspace.id))


@bp.route("/customers/<int:customer_id>/export.json")
@role_required(*READ_ROLES)
def export_customer(customer_id: int) -> Any:
    """Everything stored about the customer, as a JSON download (audited)."""
    found = get_owned(Customer, customer_id, g.workspace.id)
    document = privacy.export_customer(found, _actor())
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return (
        body,
        200,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="customer-{found.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/customers/<int:customer_id>/erase", methods=["POST"])
@role_required(*EDIT_ROLES)
def erase_customer(customer_id: int) -> Any:
    """Erase after the box "I understand this cannot be undone" is ticked; 422 without."""
    found = get_owned(Customer, customer_id, g.workspace.id)
    form = EraseForm()
    if not form.validate_on_submit():
        return _customer_page(found, erase=form, status=422)
    if privacy.erase_customer(found, _actor()):
        flash(_("The customer's personal data is erased."), "success")
    else:
        flash(_("This customer was already erased."), "success")
    return redirect(url_for("admin.customer", customer_id=found.id))


@bp.route("/customers/<int:customer_id>/withdraw-marketing", methods=["POST"])
@role_required(*EDIT_ROLES)
def withdraw_marketing(customer_id: int) -> Any:
    """Record that the customer withdrew their marketing consent (told by phone or mail)."""
    found = get_owned(Customer, customer_id, g.workspace.id)
    form = WithdrawalForm()
    if not form.validate_on_submit():
        return _customer_page(found, withdrawal=form, status=422)
    recorded = consents.withdraw_consent(
        found,
        privacy.MARKETING,
        form.source.data or "",
        by=_actor(),
        user_agent=request.user_agent.string,
    )
    if recorded:
        flash(_("The withdrawal of marketing consent is recorded."), "success")
    else:
        flash(_("Marketing consent was already withdrawn."), "success")
    return redirect(url_for("admin.customer", customer_id=found.id))
