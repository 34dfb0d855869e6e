"""Secrets, hashes and access decorators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g
from flask_login import current_user

from referral import hashing

F = TypeVar("F", bound=Callable[..., Any])


def keyed_hash(value: str, purpose: str) -> str:
    """``hashing.keyed_hash`` under this app's SECRET_KEY (for the web layer)."""
    return hashing.keyed_hash(current_app.config["SECRET_KEY"], value, purpose)


def hash_ip(ip: str | None) -> str | None:
    return hashing.hash_ip(current_app.config["SECRET_KEY"], ip)


def is_local_url(target: str | None) -> TypeGuard[str]:
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
                # Flask-Login sets ``login_manager`` on the app at run time
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if getattr(g, "role", None) not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]  # functools.wraps keeps the signature

    return decorator


EDIT_ROLES = ("owner", "editor")
OWNER_ROLES = ("owner",)
READ_ROLES = ("owner", "editor", "viewer")
