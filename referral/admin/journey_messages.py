"""The messages journeys send: one template per key and language, checked in the sandbox
when saved, previewed for a real customer of the workspace, and sent to the marketer as a
test through the outbox (the worker sends it, never the request).

Owners and editors write and test; viewers read and preview.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.domain.campaigns import LOCALES
from referral.domain.errors import NotFound, ValidationFailed
from referral.domain.message_templates import (
    CONTEXT_FIELDS,
    SOURCE_MAX,
    SUBJECT_MAX,
    TemplateFailed,
)
from referral.errors import localized_errors, localized_message
from referral.extensions import talisman
from referral.forms import Form
from referral.headers import MAIL_PREVIEW_CSP
from referral.i18n import LANGUAGE_NAMES
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import journey_admin as admin
from referral.services.journey_templates import save_template

TEXT_MAX = SOURCE_MAX  # the sandbox's limit of one part


class MessageForm(Form):
    key = StringField(
        _l("Key"),
        validators=[InputRequired(_l("Give the message a key.")), Length(max=64)],
        description=_l("What a send step names, such as welcome: letters, digits, _ or -."),
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        default="en",
    )
    subject = StringField(_l("Subject"), validators=[Length(max=SUBJECT_MAX)])
    text = TextAreaField(_l("Text"), validators=[Length(max=TEXT_MAX)])
    html = TextAreaField(
        _l("HTML (optional)"),
        validators=[Length(max=TEXT_MAX)],
        description=_l("Every value is escaped in HTML. Leave empty to send text only."),
    )


def _customer_id() -> int | None:
    value = request.values.get("customer", "")
    return int(value) if value.isdigit() else None


def _form_page(form: MessageForm, status: int = 200) -> Any:
    body = render_template(
        "admin/journeys/message_form.html",
        form=form,
        names=list(CONTEXT_FIELDS),
        answers=admin.quotable_answers(g.workspace.id),
    )
    return body, status


@bp.route("/journeys/messages")
@role_required(*READ_ROLES)
def journey_messages() -> Any:
    return render_template(
        "admin/journeys/messages.html",
        catalogue=admin.message_catalogue(g.workspace.id),
        locales=LOCALES,
    )


@bp.route("/journeys/messages/edit", methods=["GET"])
@role_required(*EDIT_ROLES)
def edit_journey_message() -> Any:
    key, locale = request.args.get("key", ""), request.args.get("locale", "en")
    # A language not written yet starts from the English version, to translate.
    found = None
    if key:
        found = admin.find_template(g.workspace.id, key, locale) or admin.find_template(
            g.workspace.id, key, "en"
        )
    parts = {"subject": found.subject, "text": found.text, "html": found.html} if found else {}
    form = MessageForm(formdata=None, data={"key": key, "locale": locale, **parts})
    return _form_page(form)


@bp.route("/journeys/messages/edit", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_journey_message() -> Any:
    form = MessageForm()
    if not form.validate_on_submit():
        return _form_page(form, 422)
    try:
        row = save_template(
            g.workspace.id,
            form.key.data or "",
            form.locale.data or "",
            form.subject.data or "",
            form.text.data or "",
            form.html.data or "",
        )
    except ValidationFailed as error:
        for name, found in localized_errors(error).items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, *found]
        form.form_errors.append(localized_message(error))
        return _form_page(form, 422)
    flash(_("Message %(key)s (%(locale)s) saved.", key=row.key, locale=row.locale), "success")
    return redirect(url_for("admin.journey_message", key=row.key, locale=row.locale))


@bp.route("/journeys/messages/<key>/<locale>")
@role_required(*READ_ROLES)
def journey_message(key: str, locale: str) -> Any:
    row = admin.find_template(g.workspace.id, key, locale)
    if row is None:
        raise NotFound(admin.NO_TEMPLATE, params={"key": key})
    chosen = _customer_id()
    preview, failure = None, None
    try:
        preview = admin.preview_message(g.workspace.id, key, locale, chosen)
    except TemplateFailed as error:
        failure = localized_message(error)
    return render_template(
        "admin/journeys/message.html",
        message=row,
        preview=preview,
        failure=failure,
        chosen=chosen,
        customers=admin.preview_customers(g.workspace.id),
        action=ActionForm(),
    )


@bp.route("/journeys/messages/<key>/<locale>/preview.html")
@talisman(content_security_policy=MAIL_PREVIEW_CSP, frame_options="SAMEORIGIN")
@role_required(*READ_ROLES)
def journey_message_html(key: str, locale: str) -> Any:
    """The HTML part as the customer would see it, for the preview's sandboxed frame."""
    row = admin.find_template(g.workspace.id, key, locale)
    if row is None:
        raise NotFound(admin.NO_TEMPLATE, params={"key": key})
    try:
        preview = admin.preview_message(g.workspace.id, key, locale, _customer_id())
    except TemplateFailed as error:
        return Response(localized_message(error), 422, mimetype="text/plain")
    if not preview.html:
        raise NotFound(admin.NO_TEMPLATE, params={"key": key})
    return Response(preview.html, mimetype="text/html")


@bp.route("/journeys/messages/<key>/<locale>/test", methods=["POST"])
@role_required(*EDIT_ROLES)
def test_journey_message(key: str, locale: str) -> Any:
    chosen = _customer_id()
    if ActionForm().validate_on_submit():
        try:
            admin.queue_test_mail(g.workspace.id, key, locale, current_user.email, chosen)
        except TemplateFailed as error:
            flash(localized_message(error), "error")
        else:
            flash(_("A test is on its way to %(address)s.", address=current_user.email), "success")
    return redirect(url_for("admin.journey_message", key=key, locale=locale, customer=chosen))
