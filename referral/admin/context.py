"""Who is acting, in which workspace, with which role: resolved once per admin request."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, request, session, url_for
from flask_login import current_user, login_required

from referral.admin import bp
from referral.admin.forms import WorkspaceForm
from referral.domain.errors import N_, NotFound
from referral.services import accounts
from referral.services.campaigns import ceiling


@bp.before_request
@login_required
def load_workspace() -> Any:
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


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"
