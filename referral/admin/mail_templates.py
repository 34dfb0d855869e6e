"""The service's own e-mails as the workspace words them: per e-mail and locale, the
built-in text or the workspace's version, written in the journey messages' sandbox,
previewed with sample data (the HTML part in a sandboxed frame).

Owners and editors write and go back to the built-in text; viewers read and preview.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.admin.journey_messages import TEXT_MAX
from referral.domain import mail_templates as mails
from referral.domain.campaigns import LOCALES
from referral.domain.errors import NotFound, ValidationFailed
from referral.domain.message_templates import SUBJECT_MAX, TemplateFailed
from referral.errors import localized_errors, localized_message
from referral.extensions import talisman
from referral.forms import Form
from referral.headers import MAIL_PREVIEW_CSP
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import mail_templates as service

MAIL_NAMES = {
    "confirmation": _l("Confirmation"),
    "trial_ending": _l("Trial reminder"),
    "draw_winner": _l("Winner's notice"),
}


class MailForm(Form):
    subject = StringField(_l("Subject"), validators=[Length(max=SUBJECT_MAX)])
    text = TextAreaField(_l("Text"), validators=[Length(max=TEXT_MAX)])
    html = TextAreaField(
        _l("HTML (optional)"),
        validators=[Length(max=TEXT_MAX)],
        description=_l("Every value is escaped in HTML. Leave empty to send text only."),
    )


def _checked(mail: str, locale: str) -> None:
    """:raise NotFound: for an e-mail or a locale the service does not have."""
    if mail not in mails.MAILS or locale not in LOCALES:
        raise NotFound(service.NO_MAIL, params={"kind": "e-mail"})


def _page(mail: str, locale: str, form: MailForm, status: int = 200) -> Any:
    preview, failure = None, None
    try:
        preview = service.preview_mail(g.workspace.id, mail, locale)
    except TemplateFailed as error:
        failure = localized_message(error)
    body = render_template(
        "admin/mail.html",
        mail=mail,
        locale=locale,
        mail_names=MAIL_NAMES,
        saved=locale in service.versions(g.workspace.id, mail),
        form=form,
        names=list(mails.fields_of(mail)),
        preview=preview,
        failure=failure,
        action=ActionForm(),
    )
    return body, status


@bp.route("/mails")
@role_required(*READ_ROLES)
def mail_templates() -> Any:
    saved = {mail: set(service.versions(g.workspace.id, mail)) for mail in mails.MAILS}
    return render_template("admin/mails.html", saved=saved, mail_names=MAIL_NAMES, locales=LOCALES)


@bp.route("/mails/<mail>/<locale>", methods=["GET"])
@role_required(*READ_ROLES)
def mail_template(mail: str, locale: str) -> Any:
    _checked(mail, locale)
    start = service.starting_text(g.workspace.id, mail, locale)
    data = {"subject": start.subject, "text": start.text, "html": start.html}
    return _page(mail, locale, MailForm(formdata=None, data=data))


@bp.route("/mails/<mail>/<locale>", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_mail_template(mail: str, locale: str) -> Any:
    _checked(mail, locale)
    form = MailForm()
    if not form.validate_on_submit():
        return _page(mail, locale, form, 422)
    try:
        service.save_mail_template(
            g.workspace.id,
            mail,
            locale,
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
        return _page(mail, locale, form, 422)
    flash(_("Message %(key)s (%(locale)s) saved.", key=MAIL_NAMES[mail], locale=locale), "success")
    return redirect(url_for("admin.mail_template", mail=mail, locale=locale))


@bp.route("/mails/<mail>/<locale>/reset", methods=["POST"])
@role_required(*EDIT_ROLES)
def reset_mail_template(mail: str, locale: str) -> Any:
    _checked(mail, locale)
    if ActionForm().validate_on_submit():
        service.remove_mail_template(g.workspace.id, mail, locale)
    return redirect(url_for("admin.mail_template", mail=mail, locale=locale))


@bp.route("/mails/<mail>/<locale>/preview.html")
@talisman(content_security_policy=MAIL_PREVIEW_CSP, frame_options="SAMEORIGIN")
@role_required(*READ_ROLES)
def mail_template_html(mail: str, locale: str) -> Any:
    """The HTML part written with sample data, for the page's sandboxed frame."""
    _checked(mail, locale)
    try:
        preview = service.preview_mail(g.workspace.id, mail, locale)
    except TemplateFailed as error:
        return Response(localized_message(error), 422, mimetype="text/plain")
    if not preview.html:
        raise NotFound(service.NO_MAIL, params={"kind": "HTML"})
    return Response(preview.html, mimetype="text/html")
