from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from referral.auth import bp
from referral.auth.forms import LoginForm, LogoutForm, PasswordChangeForm
from referral.errors import handle_rate_limit
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


def _client_key() -> str:
    """Failed logins are also counted per client address alone, whichever accounts they
    name: one address trying a few passwords on each of many accounts is slowed down too."""
    return keyed_hash(hash_ip(request.remote_addr) or "-", "login-address")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_IP_RATE_LIMIT"]


def failed(response: Any) -> bool:
    """Only refused attempts count: a correct password (a redirect) never uses the limit up."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    return target if is_local_url(target) else url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_throttle_key, methods=["POST"], deduct_when=failed)
@limiter.limit(_address_limit, key_func=_client_key, methods=["POST"], deduct_when=failed)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        marketer = accounts.authenticate(
            form.email.data or "", form.password.data or "", ip_hash=hash_ip(request.remote_addr)
        )
        if marketer is not None:
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(marketer, remember=bool(form.remember.data))
            return redirect(_safe_next(form.next.data))
        form.password.errors.append(_("Wrong e-mail or password."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def retry_after() -> int:
    """Seconds until the limit this request broke lets the client try again."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.reset_at - time.time()))


def wait_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return ngettext(
        "Too many attempts from here. Wait %(num)s minute, then try again.",
        "Too many attempts from here. Wait %(num)s minutes, then try again.",
        minutes,
    )


@bp.errorhandler(RateLimitExceeded)
def throttled(error: RateLimitExceeded) -> Any:
    """The form again, saying how long to wait, with ``Retry-After``; audited."""
    seconds = retry_after()
    headers = {"Retry-After": str(seconds)}
    if request.endpoint == "auth.change_password":
        form = PasswordChangeForm(formdata=None)
        page = render_template("auth/password.html", form=form, notice=wait_message(seconds))
        return page, 429, headers
    if request.endpoint != "auth.login":
        return handle_rate_limit(error)
    accounts.login_throttled(request.form.get("email", ""), ip_hash=hash_ip(request.remote_addr))
    form = LoginForm()
    page = render_template("auth/login.html", form=form, notice=wait_message(seconds))
    return page, 429, headers


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
