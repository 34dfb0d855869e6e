"""Webhook signatures, retry schedule and URL checks (pure).

A delivery carries ``Referral-Signature: t=<unix>,v1=<hex>``, where ``<hex>`` is the
HMAC-SHA256 of ``"<t>.<body>"`` under the endpoint's secret. A receiver recomputes it over
the raw body, compares in constant time and refuses old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from referral.domain.errors import N_, ValidationFailed

SIGNATURE_HEADER = "Referral-Signature"
URL_MAX = 500
# Seconds to wait after the n-th failed attempt; after the last one the delivery has failed.
BACKOFF_SECONDS = (60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
DEFAULT_TOLERANCE = 5 * 60


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """What a receiver does: the header must carry a fresh ``t`` and a matching ``v1``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(attempts: int) -> int | None:
    """Seconds until the next try after ``attempts`` failed ones; None when it is the end."""
    if attempts < 1 or attempts >= MAX_ATTEMPTS:
        return None
    return BACKOFF_SECONDS[attempts - 1]


def check_url(raw: object) -> str:
    """A webhook address: http(s), a host, no credentials, at most ``URL_MAX`` characters.

    :raise ValidationFailed: on ``url`` with the reason.
    """
    url = str(raw or "").strip()
    if not url:
        raise ValidationFailed.on("url", N_("Enter the address that should receive events."))
    if len(url) > URL_MAX:
        raise ValidationFailed.on(
            "url", N_("Keep the address to %(max)s characters."), {"max": URL_MAX}
        )
    not_an_address = ValidationFailed.on(
        "url", N_("Enter a full web address starting with https:// (or http://).")
    )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise not_an_address from None
    if parts.scheme not in ("http", "https") or not host or not url.isprintable():
        raise not_an_address
    if parts.username or parts.password:
        raise ValidationFailed.on(
            "url", N_("Leave user names and passwords out of the address; use the signature.")
        )
    return url
