"""A trial campaign's page: funnel, trial length and reminder, and the trials themselves,
where a marketer can record a conversion (which pays through the same event as the API)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms.validators import InputRequired

from referral.admin import bp
from referral.admin.context import of_kind, owned_campaign
from referral.admin.forms import ActionForm
from referral.admin.submit import submit
from referral.domain.errors import N_, Conflict
from referral.errors import localized_message
from referral.forms import Form, WholeNumberField
from referral.models import Campaign
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import trials as service

STATE_NAMES = {
    "active": _l("In trial"),
    "ended": _l("Ended, not converted"),
    "converted": _l("Converted"),
}


class TrialSettingsForm(Form):
    days = WholeNumberField(
        _l("Trial length (days)"),
        validators=[InputRequired()],
        description=_l("The trial starts when the person confirms their e-mail address."),
    )
    reminder_days = WholeNumberField(
        _l("Reminder (days before the end)"),
        validators=[InputRequired()],
        description=_l("One e-mail, sent once. 0 sends no reminder."),
    )


def _trial_campaign(campaign_id: int, change: bool = False) -> Campaign:
    """The workspace's campaign; to change trial settings it must be a free trial.

    :raise NotFound: another workspace's campaign.  :raise Conflict: ``change`` on another
        kind of campaign (its page only says that it has no trials).
    """
    found = owned_campaign(campaign_id)
    if change:
        return of_kind(found, "trial", Conflict, N_("This campaign is not a free trial."))
    return found


def _page(campaign: Campaign, form: TrialSettingsForm | None = None, status: int = 200) -> Any:
    if form is None:
        settings = service.trial_settings(campaign)
        form = TrialSettingsForm(formdata=None, data=settings.__dict__)
    page = render_template(
        "admin/trials.html",
        campaign=campaign,
        funnel=service.funnel(campaign),
        rows=service.list_trials(campaign),
        form=form,
        action=ActionForm(),
        state_names=STATE_NAMES,
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/trials")
@role_required(*READ_ROLES)
def trials(campaign_id: int) -> Any:
    return _page(_trial_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/trials/settings", methods=["POST"])
@role_required(*EDIT_ROLES)
def trial_settings(campaign_id: int) -> Any:
    found = _trial_campaign(campaign_id, change=True)
    form = TrialSettingsForm()
    return submit(
        form,
        lambda: service.update_trial_settings(found, form.days.data, form.reminder_days.data),
        lambda status: _page(found, form=form, status=status),
        _("Trial settings saved. Running trials keep their dates."),
        url_for("admin.trials", campaign_id=found.id),
    )


@bp.route("/campaigns/<int:campaign_id>/trials/<int:participation_id>/convert", methods=["POST"])
@role_required(*EDIT_ROLES)
def convert_trial(campaign_id: int, participation_id: int) -> Any:
    found = _trial_campaign(campaign_id, change=True)
    person = service.participant_of(found, participation_id)
    if ActionForm().validate_on_submit():
        try:
            result = service.convert_by_marketer(found, person, current_user.id)
        except Conflict as error:
            flash(localized_message(error), "error")
        else:
            flash(
                ngettext(
                    "Recorded as converted; %(num)s reward paid.",
                    "Recorded as converted; %(num)s rewards paid.",
                    len(result.rewards),
                ),
                "success",
            )
    if request.args.get("back") == "customer":  # the button on the customer's page
        return redirect(url_for("admin.customer", customer_id=person.customer_id))
    return redirect(url_for("admin.trials", campaign_id=found.id))
