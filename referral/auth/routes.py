from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from referral.auth import bp
from referral.auth.forms import LoginForm, LogoutForm
from referral.extensions import limiter, login_manager
from referral.models import Marketer
from referral.security import hash_ip, is_local_url, keyed_hash
from referral.services import accounts


def configure_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(token: str) -> Marketer | None:
    return accounts.load_by_session_token(token)


def _throttle_key() -> str:
    """Failed logins are counted per client address *and* e-mail.

    Throttling the account alone would let anyone lock the real owner out by guessing
    from elsewhere; per address and e-mail, only the guesser is slowed down.
    """
    email = (request.form.get("email") or "").strip().lower()
    return keyed_hash(f"{hash_ip(request.remote_addr)}|{email}", "login")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    return target if is_local_url(target) else url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    key_func=_throttle_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        marketer = accounts.authenticate(form.email.data or "", form.password.data or "")
        if marketer is not None:
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(marketer, remember=bool(form.remember.data))
            return redirect(_safe_next(form.next.data))
        form.password.errors.append(_("Wrong e-mail or password."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.index"))
    accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
