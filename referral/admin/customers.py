"""Customers: the list, and one person's profile, consents and timeline."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request
from flask_babel import lazy_gettext as _l

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.admin.participants import page_number
from referral.admin.rules import LEVEL_NAMES
from referral.models import Customer
from referral.security import READ_ROLES, role_required
from referral.services import customers as service
from referral.services.scoping import get_owned

# What each kind of event means, in words a marketer reads on the timeline.
EVENT_WORDS = {
    "entered": _l("Joined the campaign"),
    "signup_confirmed": _l("Confirmed their e-mail address"),
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
    search = service.clean_search(request.args.get("q", ""))
    found = service.find_customers(g.workspace.id, search, page_number())
    return render_template("admin/customers.html", page=found, search=search)


@bp.route("/customers/<int:customer_id>")
@role_required(*READ_ROLES)
def customer(customer_id: int) -> Any:
    found = get_owned(Customer, customer_id, g.workspace.id)
    return render_template(
        "admin/customer.html",
        **service.customer_view(found),
        event_words=EVENT_WORDS,
        referral_words=REFERRAL_STATUS_WORDS,
        level_names=LEVEL_NAMES,
        action=ActionForm(),
    )
