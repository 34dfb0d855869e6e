"""Secrets, hashes and access decorators."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

API_KEY_PREFIX = "rk_"


@lru_cache(maxsize=64)
def _derived_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), "sha256").digest()


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from SECRET_KEY and ``purpose``.

    Used for IP addresses and user agents: equal inputs give equal hashes (so duplicates
    can be seen) but the value cannot be recovered without the server's secret.
    """
    key = _derived_key(current_app.config["SECRET_KEY"], purpose)
    return hmac.new(key, value.encode(), "sha256").hexdigest()


def hash_ip(ip: str | None) -> str | None:
    return keyed_hash(ip, "ip") if ip else None


def new_api_key() -> str:
    """A fresh API secret: prefix plus 40 url-safe characters (240 bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(30)


def digest_api_key(secret: str) -> str:
    """What is stored of an API key: its SHA-256 (the secret has enough entropy unsalted)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def is_local_url(target: str | None) -> bool:
    """Whether ``target`` is a path on this site (safe for a ``next`` redirect).

    Rejects absolute URLs, scheme-relative ``//host``, backslash tricks (``/\\host``, which
    browsers read as ``//host``) and control characters.
    """
    if not target or not target.startswith("/"):
        return False
    if target.startswith("//") or "\\" in target:
        return False
    if any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def role_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to members of the current workspace with one of ``roles``.

    Viewers read; editors and owners change. Checked on the server for every request.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if getattr(g, "role", None) not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


EDIT_ROLES = ("owner", "editor")
OWNER_ROLES = ("owner",)
READ_ROLES = ("owner", "editor", "viewer")
