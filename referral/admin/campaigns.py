"""Campaign pages: list, create, edit, overview, publish, close (after a confirmation),
duplicate."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from referral.admin import bp
from referral.admin.context import owned_campaign
from referral.admin.forms import ActionForm, CampaignForm, campaign_form, campaign_form_data
from referral.admin.mail_templates import MAIL_NAMES
from referral.admin.rules import EVENT_NAMES
from referral.domain.campaign_content import content_for
from referral.domain.campaigns import closing_effects
from referral.domain.errors import DomainError, ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import campaign_copies, mail_templates, trials
from referral.services import campaigns as service

# The official-rules fields a prize draw must publish, named for the "Still missing" notice;
# in English by their API names, since the rules are sent through the API.
RULE_FIELD_NAMES = {
    # TRANSLATORS: this and the next ten are the API's official-rules fields of a prize
    # draw: translate each as a short label with the API name in brackets, "Preise (prizes)".
    "sponsor": _l("sponsor"),
    "sponsor_address": _l("sponsor_address"),
    "timezone": _l("timezone"),
    "regions": _l("regions"),
    "min_age": _l("min_age"),
    "entry_limit": _l("entry_limit"),
    "prizes": _l("prizes"),
    "winners": _l("winners"),
    "alternates": _l("alternates"),
    "claim_days": _l("claim_days"),
    "free_entry_method": _l("free_entry_method"),
}


def _who() -> dict[str, Any]:
    """Who asks, for the audit log: the signed-in marketer and the hashed client address."""
    return {"marketer_id": current_user.id, "ip_hash": hash_ip(request.remote_addr)}


def _field_of(form: CampaignForm, name: str) -> Any:
    """The form field an error of the service names: ``translations.de.name`` is the name
    in the German section, ``rules.sponsor`` the form's ``rules`` (when it has one)."""
    parts = name.split(".")
    if parts[0] == "translations" and len(parts) > 1 and f"words_{parts[1]}" in form:
        section = form[f"words_{parts[1]}"]
        return section.form[parts[2] if len(parts) > 2 and parts[2] in section.form else "name"]
    return getattr(form, parts[0], None)


def _attach(form: CampaignForm, error: DomainError) -> None:
    """Show a service's field errors, translated, on the form fields (or on top when there
    is no such field)."""
    for name, messages in localized_errors(error).items():
        field = _field_of(form, name)
        target = field.errors if field is not None else form.form_errors
        if isinstance(target, tuple):
            # a tuple of errors is a field's (the form's are a list), so ``field`` is set
            field.errors = target = list(target)  # type: ignore[union-attr]
        target.extend(messages)
    if not error.errors:
        form.form_errors.append(localized_message(error))


@bp.route("/campaigns")
@role_required(*READ_ROLES)
def campaigns() -> Any:
    rows = service.list_campaigns(g.workspace.id)
    return render_template("admin/campaigns.html", rows=rows, action=ActionForm())


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def new_campaign() -> Any:
    form = campaign_form()
    if form.validate_on_submit():
        try:
            campaign = service.create_campaign(g.workspace, form.values(), **_who())
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("Campaign “%(name)s” created as a draft.", name=campaign.name), "success")
            return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/campaign_form.html", form=form, campaign=None), status


# The e-mails a campaign of each kind sends beside the confirmation.
KIND_MAILS = {"trial": "trial_ending", "lottery": "draw_winner"}


def campaign_mails(campaign: Any) -> list[str]:
    """The service's e-mails this campaign sends, which it may word itself."""
    extra = KIND_MAILS.get(campaign.kind)
    return ["confirmation", *([extra] if extra else [])]


def _languages(campaign: Any) -> list[dict[str, Any]]:
    """Per language the campaign offers: the words its pages show there, and where each of
    its e-mails in that language comes from."""
    sent = {
        mail: mail_templates.sources(campaign.workspace_id, mail, campaign.id)
        for mail in campaign_mails(campaign)
    }
    return [
        {
            "locale": locale,
            "words": content_for(
                campaign.name, campaign.description, campaign.locales, campaign.settings, locale
            ),
            "mails": {mail: found[locale] for mail, found in sent.items()},
        }
        for locale in campaign.locales
        if locale in sent["confirmation"]
    ]


def _overview(found: Any, status: int = 200) -> Any:
    page = render_template(
        "admin/campaign.html",
        campaign=found,
        languages_of=_languages(found),
        mail_names=MAIL_NAMES,
        counts=service.campaign_overview(found),
        action=ActionForm(),
        event_names=EVENT_NAMES,
        trial_funnel=trials.funnel(found) if found.kind == "trial" else None,
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>")
@role_required(*READ_ROLES)
def campaign(campaign_id: int) -> Any:
    return _overview(owned_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def edit_campaign(campaign_id: int) -> Any:
    found = owned_campaign(campaign_id)
    data = campaign_form_data(found)
    translated = [locale for locale in found.locales if locale != data["default_locale"]]
    form = campaign_form(translated, obj=found, **data)
    form.kind.render_kw = {"disabled": True}
    if request.method == "POST":
        form.kind.data = found.kind
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            service.update_campaign(found, form.values(), **_who())
        except (ValidationFailed, service.CampaignClosed) as error:
            _attach(form, error)
            status = error.status
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.campaign", campaign_id=found.id))
    return render_template("admin/campaign_form.html", form=form, campaign=found), status


def _missing(error: DomainError) -> str:
    """The fields ``error`` names, in the reader's language: ``rules.sponsor`` → sponsor."""
    names = (name.split(".")[-1] for name in error.errors)
    return ", ".join(str(RULE_FIELD_NAMES.get(name, name)) for name in names)


def _transition(campaign_id: int, action: Any, done: str) -> Any:
    found = owned_campaign(campaign_id)
    if ActionForm().validate_on_submit():
        try:
            action(found)
        except DomainError as error:
            flash(localized_message(error), "error")
            if error.errors:
                flash(_("Still missing: %(fields)s", fields=_missing(error)), "error")
        else:
            flash(done, "success")
    return redirect(url_for("admin.campaign", campaign_id=found.id))


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["POST"])
@role_required(*EDIT_ROLES)
def publish_campaign(campaign_id: int) -> Any:
    """A draft goes live; one that lacks what it needs (official rules, questions, a prize)
    stays a draft and its page comes again (422) saying what is missing."""
    found = owned_campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.campaign", campaign_id=found.id))
    try:
        service.publish_campaign(found)
    except ValidationFailed as error:
        flash(localized_message(error), "error")
        if any(name.startswith("rules.") for name in error.errors):
            flash(_("Still missing: %(fields)s", fields=_missing(error)), "error")
        return _overview(owned_campaign(campaign_id), error.status)
    except DomainError as error:
        flash(localized_message(error), "error")
    else:
        flash(_("The campaign is live."), "success")
    return redirect(url_for("admin.campaign", campaign_id=found.id))


@bp.route("/campaigns/<int:campaign_id>/close", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def close_campaign(campaign_id: int) -> Any:
    """GET: what closing this campaign does, and the button that closes it. POST: close."""
    if request.method == "POST":
        return _transition(campaign_id, service.close_campaign, _("The campaign is closed."))
    found = owned_campaign(campaign_id)
    return render_template(
        "admin/campaign_close.html",
        campaign=found,
        counts=service.campaign_overview(found),
        effects=[_(effect) for effect in closing_effects(found.kind)],
        action=ActionForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/duplicate", methods=["POST"])
@role_required(*EDIT_ROLES)
def duplicate_campaign(campaign_id: int) -> Any:
    """A new draft set up like this campaign, without its people; opens the copy."""
    found = owned_campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.campaign", campaign_id=found.id))
    try:
        copy = campaign_copies.duplicate_campaign(found, **_who())
    except DomainError as error:
        flash(localized_message(error), "error")
        return redirect(url_for("admin.campaign", campaign_id=found.id))
    flash(_("Campaign “%(name)s” created as a draft.", name=copy.name), "success")
    return redirect(url_for("admin.campaign", campaign_id=copy.id))
