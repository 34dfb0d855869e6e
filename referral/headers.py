"""Security and caching headers: the one source of truth for every response.

Flask responses get them through Talisman (configured here) and :func:`no_store_personal`;
the referral-link fast path, which answers before Flask, sends :func:`fast_path_headers`,
built from the same values. ``tests/web/test_headers.py`` checks that both agree.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from referral.extensions import talisman

CSP: dict[str, str] = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# SVG charts drawn by the server: no script, no fetches, inline styles only, never framed.
CHART_CSP: dict[str, str] = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "frame-ancestors": "'none'",
}
# A message's HTML part in the admin's preview frame: its own inline styles and images, no
# script, no form, a unique origin (sandbox), framed by our own pages only.
MAIL_PREVIEW_CSP: dict[str, str] = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "img-src": "data: https:",
    "frame-ancestors": "'self'",
    "sandbox": "",
}
# A campaign's widget (``/embed/<slug>/<kind>``): a page like the others, which the sites the
# campaign allows may frame (``frame-ancestors``, set per response by :func:`embed_framing`).
EMBED_CSP: dict[str, str] = {**CSP, "frame-ancestors": "'self'"}
# The embed script other sites load (``/w/v1.js``): cached a year (its address names its
# version) and readable from any origin, so that ``integrity=`` can check it.
SCRIPT_CACHE = "public, max-age=31536000, immutable"
FRAMING_KEY = "referral.frame_ancestors"
# A redirect has nothing to load at all.
REDIRECT_CSP = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "strict-origin-when-cross-origin"
PERMISSIONS_POLICY = {"browsing-topics": "()"}
HSTS_MAX_AGE = 31_556_926  # one year
HSTS = f"max-age={HSTS_MAX_AGE}; includeSubDomains"

# Paths whose answers carry personal data (participants, customers, review, the advocate's
# own page, the API's participants and rewards): never kept by a browser or a proxy.
PERSONAL_PREFIXES = ("/admin", "/api/v1/", "/me/", "/account")
NO_STORE = "no-store"


def common_headers(force_https: bool) -> list[tuple[str, str]]:
    """What every response carries, whichever layer answers it."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", REFERRER_POLICY),
        ("Permissions-Policy", ", ".join(f"{k}={v}" for k, v in PERMISSIONS_POLICY.items())),
    ]
    if force_https:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def fast_path_headers(force_https: bool) -> list[tuple[str, str]]:
    """The headers of a referral-link redirect (``/r/<code>``): the common ones, a CSP that
    allows nothing, and no caching (every visit is a click)."""
    return [
        ("Cache-Control", NO_STORE),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", REDIRECT_CSP),
        *common_headers(force_https),
    ]


def no_store_personal(response: Response) -> Response:
    """``Cache-Control: no-store`` on every answer under a personal-data path, unless the
    view chose its own caching for something public (the API's documentation assets)."""
    if request.path.startswith(PERSONAL_PREFIXES):
        if "immutable" not in (response.headers.get("Cache-Control") or ""):
            response.headers["Cache-Control"] = NO_STORE
            response.headers.pop("Expires", None)
    return response


def embed_policy(frame_ancestors: str) -> str:
    """The CSP of a widget that ``frame_ancestors`` may frame."""
    policy = {**EMBED_CSP, "frame-ancestors": frame_ancestors}
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def allow_framing(frame_ancestors: str) -> None:
    """Let this request's answer be framed by ``frame_ancestors`` (a widget's view calls it
    before anything can fail, so that its error pages show in the frame too). Kept on the
    request itself: an application context may outlive it."""
    request.environ[FRAMING_KEY] = frame_ancestors


def embed_framing(response: Response) -> Response:
    """A widget's answer (its view called :func:`allow_framing`) may be framed by those
    sources and carries no ``X-Frame-Options``, which cannot name other sites; every other
    answer keeps ``frame-ancestors 'none'`` and ``DENY``."""
    ancestors = request.environ.get(FRAMING_KEY)
    if ancestors:
        response.headers["Content-Security-Policy"] = embed_policy(ancestors)
        response.headers.pop("X-Frame-Options", None)
        response.headers["Cache-Control"] = NO_STORE
    return response


def init_app(app: Flask) -> None:
    force_https = bool(app.config["FORCE_HTTPS"])
    options: dict[str, Any] = {
        "force_https": force_https,
        "session_cookie_secure": app.config["SESSION_COOKIE_SECURE"],
        "content_security_policy": CSP,
        "frame_options": "DENY",
        "referrer_policy": REFERRER_POLICY,
        "permissions_policy": PERMISSIONS_POLICY,
        "strict_transport_security": force_https,
        "strict_transport_security_max_age": HSTS_MAX_AGE,
        "strict_transport_security_include_subdomains": True,
    }
    # Registered first, so it runs after Talisman has set the headers it adjusts.
    app.after_request(embed_framing)
    talisman.init_app(app, **options)
    app.after_request(no_store_personal)
