"""First-party cookies of the public pages: referral touches and the visitor id.

* ``ref`` holds, per campaign, the first referral link this browser opened: code, time,
  channel and ``utm_*``. It is signed (itsdangerous), so nobody can plant a code with a
  back-dated time. **First touch wins**: a later link for the same campaign does not replace
  the entry, until the entry is older than the campaign's attribution window.
* ``vid`` is a random id kept for two years. Its keyed hash is stored with clicks and
  participations, so an advocate who opens their own link and joins again from the same
  browser is recognised as referring themselves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

ATTRIBUTION_COOKIE = "ref"
VISITOR_COOKIE = "vid"
VISITOR_MAX_AGE = 2 * 365 * 24 * 3600
MAX_CAMPAIGNS = 10
MAX_COOKIE_BYTES = 3500  # browsers accept 4 KB per cookie, name and attributes included
SALT = "attribution-cookie"


@dataclass(frozen=True)
class Touch:
    """A visitor's first touch with a campaign's referral link."""

    code: str
    at: datetime
    channel: str = "link"
    utm: dict[str, str] = field(default_factory=dict)

    def expired(self, window_days: int, now: datetime) -> bool:
        return now - self.at > timedelta(days=window_days)


class _CookieSerializer(URLSafeSerializer):
    """Signed URL-safe JSON, never zlib-compressed: a cookie of a few touches gains nothing
    from it, and every referral click would pay for the attempt. Values compressed by an
    earlier version still load (a leading "." marks them)."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=8)
def _serializer_for(secret: str) -> URLSafeSerializer:
    return _CookieSerializer(secret, salt=SALT)


def _parse(raw: Any) -> Touch | None:
    try:
        code, at, channel, utm = raw
        return Touch(str(code), datetime.fromtimestamp(float(at), UTC), str(channel), dict(utm))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class Touches:
    """The ``ref`` cookie of this request, by campaign id; a bad signature reads as empty."""

    def __init__(self, entries: dict[str, Touch]) -> None:
        self.entries = entries
        self.changed = False

    @classmethod
    def from_request(cls) -> Touches:
        return cls.from_cookie(request.cookies.get(ATTRIBUTION_COOKIE))

    @classmethod
    def from_cookie(cls, raw: str | None) -> Touches:
        entries: dict[str, Touch] = {}
        if raw:
            try:
                data = _serializer().loads(raw)
            except BadSignature:
                data = {}
            for key, value in data.items() if isinstance(data, dict) else ():
                touch = _parse(value)
                if touch is not None:
                    entries[str(key)] = touch
        return cls(entries)

    def get(self, campaign_id: int) -> Touch | None:
        return self.entries.get(str(campaign_id))

    def add(self, campaign_id: int, touch: Touch, window_days: int) -> bool:
        """Remember ``touch`` unless an unexpired one is there already (first touch wins)."""
        existing = self.get(campaign_id)
        if existing is not None and not existing.expired(window_days, touch.at):
            return False
        self.entries[str(campaign_id)] = touch
        newest = sorted(self.entries.items(), key=lambda item: item[1].at)[-MAX_CAMPAIGNS:]
        self.entries = dict(newest)
        self.changed = True
        return True

    def dumps(self) -> str:
        """The signed cookie value; the oldest touches give way when it would be too big."""
        entries = sorted(self.entries.items(), key=lambda item: item[1].at)
        while True:
            data = {
                key: [t.code, round(t.at.timestamp(), 3), t.channel, t.utm] for key, t in entries
            }
            value = _serializer().dumps(data)
            if len(value) <= MAX_COOKIE_BYTES or len(entries) <= 1:
                return value
            entries = entries[1:]

    def save(self, response: Response, window_days: int) -> None:
        """Write the cookie when it changed; it lives as long as the campaign's window."""
        if not self.changed:
            return
        response.set_cookie(
            ATTRIBUTION_COOKIE,
            self.dumps(),
            max_age=window_days * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )


def valid_visitor_id(found: str | None) -> bool:
    found = found or ""
    return 16 <= len(found) <= 64 and found.replace("-", "").replace("_", "").isalnum()


def visitor_id() -> str:
    """This browser's visitor id; a new one is made (and set on the response) when missing."""
    found = request.cookies.get(VISITOR_COOKIE, "")
    if valid_visitor_id(found):
        return found
    if "new_visitor_id" not in g:
        g.new_visitor_id = secrets.token_urlsafe(18)
    return str(g.new_visitor_id)


def keep_new_visitor(response: Response) -> Response:
    """Set the ``vid`` cookie when this request made one (an ``after_request`` hook)."""
    new = g.pop("new_visitor_id", None)
    if new:
        response.set_cookie(
            VISITOR_COOKIE,
            new,
            max_age=VISITOR_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response
