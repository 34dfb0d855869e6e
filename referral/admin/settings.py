"""The workspace's settings page: the cap on marketing mail from its journeys. Every member
reads it; owners change it."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import InputRequired, NumberRange

from referral.admin import bp
from referral.admin.rules import attach_errors
from referral.domain.consent_topics import CAP_DAYS_RANGE, CAP_LIMIT_RANGE
from referral.domain.errors import ValidationFailed
from referral.forms import Form, WholeNumberField
from referral.security import OWNER_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import workspace_settings as service

LIMIT_MESSAGE = _l("Give from 1 to 50 messages.")
DAYS_MESSAGE = _l("Give from 1 to 90 days.")


class MailCapForm(Form):
    limit = WholeNumberField(
        _l("Marketing messages per customer"),
        validators=[
            InputRequired(message=LIMIT_MESSAGE),
            NumberRange(*CAP_LIMIT_RANGE, message=LIMIT_MESSAGE),
        ],
        description=_l("Counted over every journey of the workspace, from 1 to 50."),
    )
    days = WholeNumberField(
        _l("In any period of (days)"),
        validators=[
            InputRequired(message=DAYS_MESSAGE),
            NumberRange(*CAP_DAYS_RANGE, message=DAYS_MESSAGE),
        ],
        description=_l("From 1 to 90 days."),
    )


def _page(form: MailCapForm | None = None, status: int = 200) -> Any:
    cap = service.mail_cap(g.workspace.id)
    if form is None:
        form = MailCapForm(formdata=None, data={"limit": cap.limit, "days": cap.days})
    return render_template("admin/settings.html", form=form, cap=cap), status


@bp.route("/settings")
@role_required(*READ_ROLES)
def settings() -> Any:
    return _page()


@bp.route("/settings/mail-cap", methods=["POST"])
@role_required(*OWNER_ROLES)
def mail_cap() -> Any:
    form = MailCapForm()
    if form.validate_on_submit():
        try:
            service.set_mail_cap(
                g.workspace,
                form.limit.data,
                form.days.data,
                marketer_id=current_user.id,
                ip_hash=hash_ip(request.remote_addr),
            )
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            flash(_("Saved. The cap counts from the next message a journey sends."), "success")
            return redirect(url_for("admin.settings"))
    return _page(form, 422)
