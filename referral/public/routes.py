"""The home page, the health check and the language switch."""

from __future__ import annotations

from typing import Any

from flask import abort, g, make_response, redirect, render_template, request
from sqlalchemy import select

from referral.extensions import db
from referral.i18n import COOKIE, canonical_locale
from referral.public import bp
from referral.security import is_local_url


@bp.after_app_request
def remember_locale(response: Any) -> Any:
    chosen = g.get("set_locale_cookie")
    if chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/")
def index() -> Any:
    return render_template("public/index.html")


@bp.route("/healthz")
def healthz() -> Any:
    db.session.execute(select(1))
    return {"status": "ok"}


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    """Switch language and go back where the person was (only to a local page)."""
    locale = canonical_locale(code)
    if not locale:
        abort(404)
    target = request.args.get("next")
    response = make_response(redirect(target if is_local_url(target) else "/"))
    response.set_cookie(COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
