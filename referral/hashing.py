"""Keyed hashes and API-key digests: plain functions of their arguments.

The secret is an argument, never read from the app, so services, the CLI and tests call
these the same way and nothing here depends on a request (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

API_KEY_PREFIX = "rk_"


@lru_cache(maxsize=64)
def _derived_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), "sha256").digest()


def keyed_hash(secret: str, value: str, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from ``secret`` and ``purpose``.

    Used for IP addresses, user agents and visitor ids: equal inputs give equal hashes (so
    duplicates can be seen) but the value cannot be recovered without the server's secret.
    """
    return hmac.new(_derived_key(secret, purpose), value.encode(), "sha256").hexdigest()


def hash_ip(secret: str, ip: str | None) -> str | None:
    """The stored form of an IP address (docs/DESIGN.md: IPs are kept only hashed)."""
    return keyed_hash(secret, ip, "ip") if ip else None


def new_api_key() -> str:
    """A fresh API secret: prefix plus 40 url-safe characters (240 bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(30)


def digest_api_key(secret: str) -> str:
    """What is stored of an API key: its SHA-256 (the secret has enough entropy unsalted)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
