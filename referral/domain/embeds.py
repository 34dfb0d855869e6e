"""Embedding a campaign's widgets on other sites: which sites may, and the kinds of widget.

A site is named by its origin, exactly as a browser sends it: scheme, host and a port when
it is not the scheme's own (``https://shop.example.com``, ``http://localhost:8000``). Nothing
else is an origin: no path, no query, no wildcard, no user name, no ``*`` or ``'self'``. A
campaign allows at most :data:`MAX_ORIGINS`; with none, only the service itself may frame its
widgets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from referral.domain.errors import N_, Message, ValidationFailed

KINDS = ("join", "share", "me", "leaderboard")
MAX_ORIGINS = 20
ORIGIN_MAX = 200
DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name of letters, digits and hyphens in dot-separated labels, an IPv4 address, or an
# IPv6 address in brackets.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_IPV6 = re.compile(r"\[[0-9a-f:.]+\]")

NOT_AN_ORIGIN = N_(
    "“%(origin)s” is not a site address: write the scheme and host, and the port if any, "
    "such as https://shop.example.com."
)
TOO_MANY = N_("Allow at most %(max)s sites.")


def origin_of(value: str) -> str | None:
    """``value`` as an origin in its one spelling (lower case, no default port, no trailing
    slash), or None when it is not one."""
    text = value.strip()
    if not text or len(text) > ORIGIN_MAX or any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text.lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith("?"):
        return None
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if not (_HOST.fullmatch(host) or _IPV6.fullmatch(host)):
        return None
    shown = f":{port}" if port is not None and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{shown}"


def clean_origins(values: Iterable[str], field: str = "origins") -> list[str]:
    """The allowed origins in their one spelling, in the order given, without repeats.

    :raise ValidationFailed: on ``field``, naming each value that is not an origin, or when
        there are more than :data:`MAX_ORIGINS`.
    """
    found: list[str] = []
    problems: list[str | Message] = []
    for value in values:
        if not value.strip():
            continue
        origin = origin_of(value)
        if origin is None:
            problems.append(Message(NOT_AN_ORIGIN, {"origin": value.strip()[:ORIGIN_MAX]}))
        elif origin not in found:
            found.append(origin)
    if len(found) > MAX_ORIGINS:
        problems.append(Message(TOO_MANY, {"max": MAX_ORIGINS}))
    if problems:
        raise ValidationFailed(N_("Some fields are not valid."), {field: problems})
    return found


def frame_ancestors(origins: Iterable[str]) -> str:
    """The ``frame-ancestors`` sources of a widget: the service itself and ``origins``."""
    return " ".join(["'self'", *origins])
