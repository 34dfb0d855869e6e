"""Outbox page: the workspace's e-mail, queued, sent or given up on, each readable with a
sandboxed preview of its HTML part; a failed or undeliverable one can be sent again.

Without ``MAIL_URL`` mail is only logged, so this is where a confirmation link is found
while trying the service out. Everyone reads; owners and editors send again.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectChoice, SelectField
from wtforms.validators import Optional

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.admin.participants import page_number
from referral.domain.errors import Conflict, NotFound
from referral.errors import localized_message
from referral.extensions import talisman
from referral.forms import Form
from referral.headers import MAIL_PREVIEW_CSP
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import outbox_admin as service

STATUS_WORDS = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "logged": _l("Logged"),
    "failed": _l("Failed"),
    "undeliverable": _l("Undeliverable"),
}
# The badges of the campaign statuses, for a message that went out or was given up on.
BADGES = {
    "sent": "status-live",
    "logged": "status-live",
    "failed": "status-closed",
    "undeliverable": "status-closed",
}
# A link of the service itself in a message's text (the confirmation link, the person's own
# page): clickable on the message's page; other addresses stay text.
URL = re.compile(r"https?://[^\s<>\"']+")


class OutboxFilterForm(Form):
    """The filters, read from the query string (GET: nothing changes, so no CSRF token)."""

    class Meta(Form.Meta):
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])


def _form() -> tuple[OutboxFilterForm, bool]:
    form = OutboxFilterForm(request.args)
    anything = SelectChoice("", _l("Any"))
    form.status.choices = [anything, *(SelectChoice(s, w) for s, w in STATUS_WORDS.items())]
    form.kind.choices = [anything, *(SelectChoice(k, k) for k in service.kinds_in(g.workspace.id))]
    return form, form.validate()


def linked_text(text: str, base: str) -> Markup:
    """``text`` escaped, with the addresses under ``base`` as links."""
    parts: list[str] = []
    last = 0
    for found in URL.finditer(text):
        address = found.group(0).rstrip(".,;:!?)")
        parts.append(escape(text[last : found.start()]))
        if address.startswith(base + "/"):
            parts.append(Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(address))
        else:
            parts.append(escape(address))
        last = found.start() + len(address)
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _logged_only() -> bool:
    return not current_app.config.get("MAIL_URL")


@bp.route("/outbox")
@role_required(*READ_ROLES)
def outbox() -> Any:
    form, valid = _form()
    filters = service.Filters(status=form.status.data or "", kind=form.kind.data or "")
    page = service.list_messages(
        g.workspace.id, filters if valid else service.Filters(), page_number()
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v} if valid else {}
    body = render_template(
        "admin/outbox.html",
        form=form,
        page=page,
        args=args,
        status_words=STATUS_WORDS,
        badges=BADGES,
        logged_only=_logged_only(),
    )
    return body, 200 if valid else 422


@bp.route("/outbox/<int:message_id>")
@role_required(*READ_ROLES)
def outbox_message(message_id: int) -> Any:
    message = service.find_message(g.workspace.id, message_id)
    return render_template(
        "admin/outbox_message.html",
        message=message,
        text=linked_text(message.body_text, current_app.config["PUBLIC_BASE_URL"]),
        status_words=STATUS_WORDS,
        badges=BADGES,
        retryable=message.status in service.RETRYABLE,
        logged_only=_logged_only(),
        action=ActionForm(),
    )


@bp.route("/outbox/<int:message_id>/preview.html")
@talisman(content_security_policy=MAIL_PREVIEW_CSP, frame_options="SAMEORIGIN")
@role_required(*READ_ROLES)
def outbox_message_html(message_id: int) -> Any:
    """The HTML part as the customer would see it, for the message page's sandboxed frame."""
    message = service.find_message(g.workspace.id, message_id)
    if not message.body_html:
        raise NotFound(service.NO_MESSAGE, params={"kind": "message"})
    return Response(message.body_html, mimetype="text/html")


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@role_required(*EDIT_ROLES)
def retry_outbox_message(message_id: int) -> Any:
    service.find_message(g.workspace.id, message_id)  # another workspace's id: 404
    if ActionForm().validate_on_submit():
        try:
            service.retry_message(
                g.workspace.id,
                message_id,
                marketer_id=current_user.id,
                ip_hash=hash_ip(request.remote_addr),
            )
        except Conflict as error:
            flash(localized_message(error), "error")
        else:
            flash(_("The message is queued again."), "success")
    return redirect(url_for("admin.outbox_message", message_id=message_id))
