"""The referral-link fast path: ``GET /r/<code>`` answered before Flask's full machinery.

A referral link is the busiest URL of a campaign that spreads (a post shared to thousands),
and what it does is small: look the code up (cached), queue the click, remember the first
touch in a cookie, redirect to the campaign's own landing page. Sessions, CSRF, rate limits,
Content-Security-Policy and templates are not needed for a 302, so this WSGI layer answers
valid codes itself and hands every other request, unknown codes included, to Flask.
``follow_link`` is the one implementation, shared with the Flask view.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Flask
from werkzeug.http import http_date, parse_cookie

from referral.domain.codes import is_well_formed
from referral.headers import fast_path_headers
from referral.models.base import utcnow
from referral.public.cookies import (
    ATTRIBUTION_COOKIE,
    VISITOR_COOKIE,
    VISITOR_MAX_AGE,
    Touch,
    Touches,
    valid_visitor_id,
)
from referral.services import clicks
from referral.services.clicks import LinkTarget


@dataclass
class Followed:
    location: str
    cookies: list[tuple[str, str, int]] = field(default_factory=list)  # name, value, max-age


def follow_link(
    target: LinkTarget, args: dict[str, str], cookies: Any, ip: str | None, root: str = ""
) -> Followed:
    """Log the click and decide the redirect and cookies (needs an app context).

    First touch wins: an unexpired touch of the same campaign in the ``ref`` cookie stays.
    The location comes from the database, never from the request: no open redirect.
    """
    channel = clicks.clean_channel(args.get("ch"))
    utm = clicks.clean_utm(args)
    visitor = cookies.get(VISITOR_COOKIE)
    new_visitor = None
    if not valid_visitor_id(visitor):
        visitor = new_visitor = secrets.token_urlsafe(18)
    clicks.record_click(target, channel, utm, ip, visitor)
    followed = Followed(f"{root}/c/{quote(target.campaign_slug)}")
    touches = Touches.from_cookie(cookies.get(ATTRIBUTION_COOKIE))
    touch = Touch(target.code, utcnow(), channel, utm)
    if touches.add(target.campaign_id, touch, target.attribution_days):
        followed.cookies.append(
            (ATTRIBUTION_COOKIE, touches.dumps(), target.attribution_days * 24 * 3600)
        )
    if new_visitor:
        followed.cookies.append((VISITOR_COOKIE, new_visitor, VISITOR_MAX_AGE))
    return followed


def _set_cookie(name: str, value: str, max_age: int, secure: bool, now: int) -> str:
    """The header ``dump_cookie`` would write, without its per-call date formatting.

    Our values (URL-safe base64, dots and ``token_urlsafe`` ids) never need quoting.
    """
    return f"{name}={value}{_cookie_attributes(max_age, secure, now)}"


@lru_cache(maxsize=64)
def _cookie_attributes(max_age: int, secure: bool, now: int) -> str:
    expires = http_date(now + max_age)
    flag = "; Secure" if secure else ""
    return f"; Expires={expires}; Max-Age={max_age}{flag}; HttpOnly; Path=/; SameSite=Lax"


class ReferralFastPath:
    """WSGI middleware in front of ``app.wsgi_app`` (see the module docstring)."""

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.force_https = bool(app.config.get("FORCE_HTTPS"))
        self.headers = fast_path_headers(self.force_https)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not path.startswith("/r/"):
            return self.wsgi_app(environ, start_response)
        code = path[3:]
        if not is_well_formed(code) or (self.force_https and not _is_https(environ)):
            return self.wsgi_app(environ, start_response)  # Flask redirects to https first
        with self.app.app_context():
            target = clicks.resolve_code(code)
            if target is None or not target.public:
                target = None
            else:
                followed = follow_link(
                    target,
                    dict(parse_qsl(environ.get("QUERY_STRING", ""))),
                    dict(parse_cookie(environ)),
                    environ.get("REMOTE_ADDR"),
                    environ.get("SCRIPT_NAME", ""),
                )
                secure = bool(self.app.config.get("SESSION_COOKIE_SECURE"))
        if target is None:
            return self.wsgi_app(environ, start_response)  # Flask answers with its 404 page
        headers = [("Location", followed.location), *self.headers]
        now = int(time.time())
        for name, value, max_age in followed.cookies:
            headers.append(("Set-Cookie", _set_cookie(name, value, max_age, secure, now)))
        body = b'<!doctype html><a href="' + followed.location.encode() + b'">Continue</a>'
        headers.append(("Content-Length", str(len(body))))
        start_response("302 Found", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _is_https(environ: dict[str, Any]) -> bool:
    """As Talisman decides it: the scheme, or the proxy's ``X-Forwarded-Proto``."""
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "")
    return environ.get("wsgi.url_scheme") == "https" or forwarded.split(",")[0].strip() == "https"


def init_app(app: Flask) -> None:
    # Flask's documented way to add WSGI middleware
    app.wsgi_app = ReferralFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
