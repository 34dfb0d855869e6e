"""Audit page: owners read who did what in the workspace, filter it and export it."""

from __future__ import annotations

from typing import Any

from flask import Response, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from referral.admin import bp
from referral.admin.participants import page_number
from referral.forms import Form
from referral.security import OWNER_ROLES, hash_ip, role_required
from referral.services import audit_log as service
from referral.services.audit import OUTCOMES

OUTCOME_WORDS = {
    "ok": _l("Done"),
    "denied": _l("Denied"),
    "failed": _l("Failed"),
    "throttled": _l("Throttled"),
}


class AuditFilterForm(Form):
    """The filters, read from the query string (GET: nothing changes, so no CSRF token)."""

    class Meta(Form.Meta):
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=True)
    outcome = SelectField(_l("Outcome"), validators=[Optional()])
    actor = StringField(_l("Actor contains"), validators=[Optional(), Length(max=120)])
    date_from = DateField(_l("From (UTC)"), validators=[Optional()])
    date_to = DateField(_l("To (UTC)"), validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> service.Filters:
        return service.Filters(
            action=self.action.data or "",
            outcome=self.outcome.data or "",
            actor=(self.actor.data or "").strip(),
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )


def _form() -> tuple[AuditFilterForm, bool]:
    """The filter form from the query string, and whether it is valid."""
    form = AuditFilterForm(request.args)
    actions = service.actions_in(g.workspace.id)
    anything = SelectChoice("", _l("Any"))
    form.action.choices = [anything, *(SelectChoice(a, a) for a in actions)]
    form.outcome.choices = [anything, *(SelectChoice(o, OUTCOME_WORDS[o]) for o in OUTCOMES)]
    return form, form.validate()


@bp.route("/audit")
@role_required(*OWNER_ROLES)
def audit() -> Any:
    form, valid = _form()
    page = service.list_entries(g.workspace.id, form.filters(), page_number()) if valid else None
    args = {k: v for k, v in request.args.items() if k != "page" and v} if valid else {}
    body = render_template(
        "admin/audit.html", form=form, page=page, args=args, outcome_words=OUTCOME_WORDS
    )
    return body, 200 if valid else 422


@bp.route("/audit.csv")
@role_required(*OWNER_ROLES)
def audit_export() -> Any:
    form, valid = _form()
    if not valid:
        return audit()
    content = service.export_csv(
        g.workspace.id,
        form.filters(),
        current_user._get_current_object(),
        ip_hash=hash_ip(request.remote_addr),
    )
    response = Response(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    response.cache_control.no_store = True
    return response
