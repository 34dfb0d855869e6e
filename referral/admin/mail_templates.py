"""The service's own e-mails as the workspace words them: per e-mail and locale, the
built-in text or the workspace's version, written in the journey messages' sandbox,
previewed with sample data (the HTML part in a sandboxed frame). A campaign may have its own
version per locale (``/admin/campaigns/<id>/mails/…``), sent instead of the workspace's.

Owners and editors write and go back to the built-in text; viewers read and preview.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from referral.admin import bp
from referral.admin.context import owned_campaign
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
from referral.models import Campaign
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import mail_templates as service
from referral.services.privacy import Actor

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


def _actor() -> Actor:
    return Actor(marketer_id=current_user.id, ip_hash=hash_ip(request.remote_addr))


def _urls(mail: str, locale: str, campaign: Campaign | None) -> dict[str, str]:
    """Where the page's forms post and its frame and crumbs lead, for the workspace's
    version or for a campaign's own."""
    args: dict[str, Any] = {"mail": mail, "locale": locale}
    if campaign is None:
        views = ("mail_template", "save_mail_template", "reset_mail_template")
        back = url_for("admin.mail_templates")
        preview = url_for("admin.mail_template_html", **args)
    else:
        args["campaign_id"] = campaign.id
        views = ("campaign_mail", "save_campaign_mail", "reset_campaign_mail")
        back = url_for("admin.campaign", campaign_id=campaign.id)
        preview = url_for("admin.campaign_mail_html", **args)
    page, save, reset = (url_for(f"admin.{view}", **args) for view in views)
    return {"page": page, "save": save, "reset": reset, "preview": preview, "back": back}


def _page(
    mail: str, locale: str, form: MailForm, status: int = 200, campaign: Campaign | None = None
) -> Any:
    preview, failure = None, None
    try:
        preview = service.preview_mail(g.workspace.id, mail, locale, campaign)
    except TemplateFailed as error:
        failure = localized_message(error)
    campaign_id = campaign.id if campaign else None
    body = render_template(
        "admin/mail.html",
        mail=mail,
        locale=locale,
        mail_names=MAIL_NAMES,
        campaign=campaign,
        urls=_urls(mail, locale, campaign),
        saved=locale in service.versions(g.workspace.id, mail, campaign_id),
        shared=campaign is not None and locale in service.versions(g.workspace.id, mail),
        form=form,
        names=list(mails.fields_of(mail)),
        preview=preview,
        failure=failure,
        action=ActionForm(),
    )
    return body, status


def _editor(mail: str, locale: str, campaign: Campaign | None = None) -> Any:
    service.checked(mail, locale)
    campaign_id = campaign.id if campaign else None
    start = service.starting_text(g.workspace.id, mail, locale, campaign_id)
    data = {"subject": start.subject, "text": start.text, "html": start.html}
    return _page(mail, locale, MailForm(formdata=None, data=data), campaign=campaign)


def _save(mail: str, locale: str, campaign: Campaign | None = None) -> Any:
    service.checked(mail, locale)
    form = MailForm()
    if not form.validate_on_submit():
        return _page(mail, locale, form, 422, campaign)
    try:
        service.save_mail_template(
            g.workspace.id,
            mail,
            locale,
            form.subject.data or "",
            form.text.data or "",
            form.html.data or "",
            campaign_id=campaign.id if campaign else None,
            by=_actor(),
        )
    except ValidationFailed as error:
        for name, found in localized_errors(error).items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, *found]
        form.form_errors.append(localized_message(error))
        return _page(mail, locale, form, 422, campaign)
    flash(_("Message %(key)s (%(locale)s) saved.", key=MAIL_NAMES[mail], locale=locale), "success")
    return redirect(_urls(mail, locale, campaign)["page"])


def _reset(mail: str, locale: str, campaign: Campaign | None = None) -> Any:
    service.checked(mail, locale)
    if ActionForm().validate_on_submit():
        campaign_id = campaign.id if campaign else None
        service.remove_mail_template(
            g.workspace.id, mail, locale, campaign_id=campaign_id, by=_actor()
        )
    return redirect(_urls(mail, locale, campaign)["page"])


def _html(mail: str, locale: str, campaign: Campaign | None = None) -> Any:
    """The HTML part written with sample data, for the page's sandboxed frame."""
    service.checked(mail, locale)
    try:
        preview = service.preview_mail(g.workspace.id, mail, locale, campaign)
    except TemplateFailed as error:
        return Response(localized_message(error), 422, mimetype="text/plain")
    if not preview.html:
        raise NotFound(service.NO_MAIL, params={"kind": "HTML"})
    return Response(preview.html, mimetype="text/html")


@bp.route("/mails")
@role_required(*READ_ROLES)
def mail_templates() -> Any:
    saved = {mail: set(service.versions(g.workspace.id, mail)) for mail in mails.MAILS}
    return render_template("admin/mails.html", saved=saved, mail_names=MAIL_NAMES, locales=LOCALES)


@bp.route("/mails/<mail>/<locale>", methods=["GET"])
@role_required(*READ_ROLES)
def mail_template(mail: str, locale: str) -> Any:
    return _editor(mail, locale)


@bp.route("/mails/<mail>/<locale>", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_mail_template(mail: str, locale: str) -> Any:
    return _save(mail, locale)


@bp.route("/mails/<mail>/<locale>/reset", methods=["POST"])
@role_required(*EDIT_ROLES)
def reset_mail_template(mail: str, locale: str) -> Any:
    return _reset(mail, locale)


@bp.route("/mails/<mail>/<locale>/preview.html")
@talisman(content_security_policy=MAIL_PREVIEW_CSP, frame_options="SAMEORIGIN")
@role_required(*READ_ROLES)
def mail_template_html(mail: str, locale: str) -> Any:
    return _html(mail, locale)


# A campaign's own version, sent instead of the workspace's in that locale.


@bp.route("/campaigns/<int:campaign_id>/mails/<mail>/<locale>", methods=["GET"])
@role_required(*READ_ROLES)
def campaign_mail(campaign_id: int, mail: str, locale: str) -> Any:
    return _editor(mail, locale, owned_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/mails/<mail>/<locale>", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_campaign_mail(campaign_id: int, mail: str, locale: str) -> Any:
    return _save(mail, locale, owned_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/mails/<mail>/<locale>/reset", methods=["POST"])
@role_required(*EDIT_ROLES)
def reset_campaign_mail(campaign_id: int, mail: str, locale: str) -> Any:
    return _reset(mail, locale, owned_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/mails/<mail>/<locale>/preview.html")
@talisman(content_security_policy=MAIL_PREVIEW_CSP, frame_options="SAMEORIGIN")
@role_required(*READ_ROLES)
def campaign_mail_html(campaign_id: int, mail: str, locale: str) -> Any:
    return _html(mail, locale, owned_campaign(campaign_id))
