"""Who is acting, in which workspace, with which role: resolved once per admin request."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from referral.admin import bp
from referral.admin.forms import WorkspaceForm
from referral.domain.errors import N_, DomainError, NotFound
from referral.errors import handle_http
from referral.models import Campaign
from referral.security import hash_ip
from referral.services import accounts, audit
from referral.services.campaigns import ceiling
from referral.services.scoping import get_owned


@bp.before_request
@login_required
def load_workspace() -> Any:
    # Disabled memberships are left out: a marketer with none enabled is no member at all.
    memberships = accounts.memberships_of(current_user)
    if not memberships:
        abort(403, description=N_("Your account is not a member of any workspace."))
    chosen = next((m for m in memberships if m.workspace_id == session.get("workspace_id")), None)
    membership = chosen or memberships[0]
    g.memberships = memberships
    g.workspace = membership.workspace
    g.role = membership.role
    g.ceiling = ceiling()
    return None


@bp.errorhandler(Forbidden)
def refused(error: Forbidden) -> Any:
    """Every refusal in the admin is audited (who, where, in which workspace), then shown."""
    workspace = g.get("workspace")
    marketer_id = current_user.id if current_user.is_authenticated else None
    audit.security_event(
        "admin.access",
        request.endpoint or "-",
        workspace_id=workspace.id if workspace is not None else None,
        marketer_id=marketer_id,
        outcome="denied",
        ip_hash=hash_ip(request.remote_addr),
        data={"method": request.method, "path": request.path},
    )
    return handle_http(error)


@bp.app_template_global()
def can_edit() -> bool:
    return g.get("role") in ("owner", "editor")


@bp.route("/workspace", methods=["POST"])
def switch_workspace() -> Any:
    form = WorkspaceForm()
    if form.validate_on_submit():
        wanted = form.workspace_id.data
        if not any(m.workspace_id == wanted for m in g.memberships):
            raise NotFound(N_("No such workspace."))
        session["workspace_id"] = wanted
    return redirect(url_for("admin.index"))


@bp.route("/")
def index() -> Any:
    return redirect(url_for("admin.campaigns"))


def owned_campaign(campaign_id: int) -> Campaign:
    """The campaign ``campaign_id`` of the marketer's workspace.

    :raise NotFound: for ids of other workspaces, exactly as for ids that do not exist.
    """
    return get_owned(Campaign, campaign_id, g.workspace.id)


def of_kind(campaign: Campaign, kind: str, error: type[DomainError], message: str) -> Campaign:
    """``campaign`` when it is of ``kind``.

    :raise error: with ``message`` (untranslated, ``N_``) for a campaign of another kind.
    """
    if campaign.kind != kind:
        raise error(message)
    return campaign


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"
