"""API keys page: owners create and revoke keys; the secret is shown once."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from referral.admin import bp
from referral.admin.forms import ActionForm, ApiKeyForm
from referral.domain.errors import ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.models import ApiKey
from referral.security import OWNER_ROLES, READ_ROLES, role_required
from referral.services import api_keys as service
from referral.services.scoping import get_owned


@bp.route("/api-keys", methods=["GET"])
@role_required(*READ_ROLES)
def api_keys() -> Any:
    return render_template(
        "admin/api_keys.html",
        keys=service.list_api_keys(g.workspace.id),
        form=ApiKeyForm(),
        action=ActionForm(),
        secret=None,
    )


@bp.route("/api-keys", methods=["POST"])
@role_required(*OWNER_ROLES)
def create_api_key() -> Any:
    form = ApiKeyForm()
    secret = None
    status = 422
    if form.validate_on_submit():
        try:
            _key, secret = service.create_api_key(
                g.workspace, form.name.data or "", current_user._get_current_object()
            )
            status = 201
            form = ApiKeyForm(formdata=None)
        except ValidationFailed as error:
            found = localized_errors(error).get("name", [localized_message(error)])
            form.name.errors = [*form.name.errors, *found]
    return (
        render_template(
            "admin/api_keys.html",
            keys=service.list_api_keys(g.workspace.id),
            form=form,
            action=ActionForm(),
            secret=secret,
        ),
        status if request.method == "POST" else 200,
    )


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@role_required(*OWNER_ROLES)
def revoke_api_key(key_id: int) -> Any:
    key = get_owned(ApiKey, key_id, g.workspace.id)
    if ActionForm().validate_on_submit():
        service.revoke_api_key(key, current_user._get_current_object())
        flash(_("Key “%(name)s” revoked.", name=key.name), "success")
    return redirect(url_for("admin.api_keys"))
