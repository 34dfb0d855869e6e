"""A campaign's widgets on other sites: the sites allowed to frame them, and the snippet a
marketer pastes into their site (docs/API.md, Widgets on other sites)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import Length

from referral import widget
from referral.admin import bp
from referral.admin.context import owned_campaign
from referral.domain.embeds import KINDS, MAX_ORIGINS, ORIGIN_MAX
from referral.domain.errors import DomainError, ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.forms import Form
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import embeds

KIND_NAMES = {
    "join": _l("Join form"),
    "share": _l("Share buttons of a signed-in customer"),
    "me": _l("Referrals of a signed-in customer"),
    "leaderboard": _l("Leaderboard"),
}


class EmbedOriginsForm(Form):
    origins = TextAreaField(
        _l("Sites allowed to show the widgets"),
        validators=[Length(max=MAX_ORIGINS * (ORIGIN_MAX + 2))],
        description=_l(
            "One address per line, such as https://shop.example.com: the scheme, the host and "
            "the port if any, no path. Leave empty to allow none."
        ),
    )

    def values(self) -> list[str]:
        return [line.strip() for line in (self.origins.data or "").splitlines() if line.strip()]


def _page(campaign: Any, form: EmbedOriginsForm, status: int = 200) -> Any:
    base = current_app.config["PUBLIC_BASE_URL"]
    snippets = {kind: widget.snippet(base, campaign.slug, kind) for kind in KINDS}
    page = render_template(
        "admin/embed.html",
        campaign=campaign,
        form=form,
        snippets=snippets,
        kind_names=KIND_NAMES,
        integrity=widget.integrity(),
        token_seconds=embeds.token_seconds(),
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/embed", methods=["GET"])
@role_required(*READ_ROLES)
def campaign_embed(campaign_id: int) -> Any:
    found = owned_campaign(campaign_id)
    form = EmbedOriginsForm(formdata=None, origins="\n".join(found.embed_origins or []))
    return _page(found, form)


@bp.route("/campaigns/<int:campaign_id>/embed", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_campaign_embed(campaign_id: int) -> Any:
    """Save the allowed sites; values that are not site addresses come back on the form
    (422), each named, and nothing changes."""
    found = owned_campaign(campaign_id)
    form = EmbedOriginsForm()
    if not form.validate_on_submit():
        return _page(found, form, 422)
    who = {"marketer_id": current_user.id, "ip_hash": hash_ip(request.remote_addr)}
    try:
        embeds.set_embed_origins(found, form.values(), **who)
    except ValidationFailed as error:
        form.origins.errors = [m for found_ in localized_errors(error).values() for m in found_]
        return _page(owned_campaign(campaign_id), form, error.status)
    except DomainError as error:
        flash(localized_message(error), "error")
        return _page(owned_campaign(campaign_id), form, error.status)
    flash(_("Changes saved."), "success")
    return redirect(url_for("admin.campaign_embed", campaign_id=found.id))
