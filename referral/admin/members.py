"""Members page: owners see who works in the workspace and disable or enable them."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.domain.errors import Conflict
from referral.errors import localized_message
from referral.models import Membership
from referral.security import OWNER_ROLES, hash_ip, role_required
from referral.services import members as service
from referral.services.scoping import get_owned


def _page(error: str | None = None, status: int = 200) -> Any:
    page = render_template(
        "admin/members.html",
        members=service.list_members(g.workspace.id),
        action=ActionForm(),
        error=error,
    )
    return page, status


@bp.route("/members")
@role_required(*OWNER_ROLES)
def members() -> Any:
    return _page()


def _set_disabled(membership_id: int, disabled: bool) -> Any:
    membership = get_owned(Membership, membership_id, g.workspace.id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.members"))
    try:
        changed = service.set_disabled(
            g.workspace,
            membership,
            current_user._get_current_object(),
            disabled,
            ip_hash=hash_ip(request.remote_addr),
        )
    except Conflict as error:
        return _page(localized_message(error), error.status)
    if changed:
        email = membership.marketer.email
        if disabled:
            flash(_("%(email)s is disabled here and signed out.", email=email), "success")
        else:
            flash(_("%(email)s can work in this workspace again.", email=email), "success")
    return redirect(url_for("admin.members"))


@bp.route("/members/<int:membership_id>/disable", methods=["POST"])
@role_required(*OWNER_ROLES)
def disable_member(membership_id: int) -> Any:
    return _set_disabled(membership_id, True)


@bp.route("/members/<int:membership_id>/enable", methods=["POST"])
@role_required(*OWNER_ROLES)
def enable_member(membership_id: int) -> Any:
    return _set_disabled(membership_id, False)
