"""A signed-in marketer's own account: changing the password."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from flask_login.config import COOKIE_NAME

from referral.auth import bp
from referral.auth.forms import PasswordChangeForm
from referral.auth.routes import failed
from referral.domain.errors import ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.extensions import limiter
from referral.security import hash_ip, keyed_hash
from referral.services import accounts


def _account_key() -> str:
    """Wrong current passwords are counted per account: a borrowed session cannot be used
    to guess the password behind it."""
    return keyed_hash(str(getattr(current_user, "id", "")), "password-change")


def _limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _had_remember_cookie() -> bool:
    name = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    return name in request.cookies


def _show(form: PasswordChangeForm, error: ValidationFailed) -> None:
    found = localized_errors(error)
    for name in ("current_password", "password"):
        field = form[name]
        field.errors = [*field.errors, *found.get(name, [])]
    if not any(found.get(name) for name in ("current_password", "password")):
        form.form_errors.append(localized_message(error))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit, key_func=_account_key, methods=["POST"], deduct_when=failed)
def change_password() -> Any:
    """Current password, new password twice. On success every *other* session ends: the
    password change replaces the session token, and this browser is signed in again."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        marketer = current_user._get_current_object()
        try:
            accounts.change_password(
                marketer,
                form.current_password.data or "",
                form.password.data or "",
                ip_hash=hash_ip(request.remote_addr),
            )
        except ValidationFailed as error:
            _show(form, error)
        else:
            login_user(marketer, remember=_had_remember_cookie(), fresh=True)
            flash(_("Your password is changed. Every other session is signed out."), "success")
            return redirect(url_for("auth.change_password"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
