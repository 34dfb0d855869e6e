"""The home page, the health check and the language switch."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)

from referral.demo.seed import DEMO_WORKSPACE
from referral.i18n import COOKIE, canonical_locale
from referral.public import bp
from referral.security import is_local_url
from referral.services import health, showcase


@bp.after_app_request
def remember_locale(response: Any) -> Any:
    chosen = g.get("set_locale_cookie")
    if chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/")
def index() -> Any:
    """The home page; on a development server it also lists the demo's open campaigns, so
    a newcomer finds a landing page to try (a production server shows none)."""
    development = current_app.config.get("REFERRAL_ENV") == "development"
    demo = showcase.open_campaigns(DEMO_WORKSPACE) if development else []
    return render_template("public/index.html", demo_campaigns=demo)


@bp.route("/healthz")
def healthz() -> Any:
    """``ok`` or ``degraded`` (200: keep sending traffic) or ``down`` (503), with reasons."""
    found = health.check(float(current_app.config.get("HEALTH_SLOW_DATABASE_MS", 500)))
    body: dict[str, Any] = {"status": found.status}
    if found.reasons:
        body["reasons"] = found.reasons
    if found.database_ms is not None:
        body["database_ms"] = found.database_ms
    response = jsonify(body)
    response.status_code = 503 if found.status == "down" else 200
    response.headers["Cache-Control"] = "no-store"
    if found.status == "down":
        response.headers["Retry-After"] = "5"
    return response


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
