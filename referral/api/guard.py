"""What every API endpoint gets after authentication: a rate limit per API key, and
``Idempotency-Key`` replays on POST (docs/API.md, Conventions).

``@guarded`` goes right inside ``@bp.auth_required(auth)`` (``operations.operation`` puts it
there), so that it knows the key and runs before the body is read: a replay answers without
parsing or validating anything again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, jsonify, request
from limits import parse_many

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import limiter
from referral.services import idempotency

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
DEFAULT_RATE_LIMIT = "600 per minute"
# Headers of the first answer that a replay repeats.
KEPT_HEADERS = ("Location",)


def _rate_limit() -> str:
    """The API's limit; with the limit off (``_unlimited``) a valid one that is never
    applied, since flask-limiter parses the string before it asks ``exempt_when``."""
    if _unlimited():
        return DEFAULT_RATE_LIMIT
    return str(current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def _unlimited() -> bool:
    """``API_RATE_LIMIT`` set to ``""``/``off`` turns the API's limit off."""
    configured = current_app.config.get("API_RATE_LIMIT")
    return configured is not None and str(configured).strip().lower() in ("", "off", "none")


def _caller() -> str:
    """The rate-limit bucket: the API key (all of a key's requests share one budget)."""
    key = getattr(g, "api_key", None)
    return f"api-key:{key.id}" if key is not None else f"api-ip:{request.remote_addr}"


def _checked_key(raw: str) -> str:
    """:raise ValidationFailed: on the header when it is empty, too long or not printable."""
    if not 1 <= len(raw) <= idempotency.KEY_MAX or not raw.isascii() or not raw.isprintable():
        raise ValidationFailed.on(
            HEADER,
            N_("Use 1 to %(max)s printable ASCII characters, e.g. a UUID."),
            {"max": idempotency.KEY_MAX},
        )
    return raw


def _fingerprint() -> str:
    """What makes a repeat the same request: method, path, raw query string (as the WSGI
    server received it) and body."""
    raw_query = request.environ.get("QUERY_STRING", "").encode("latin-1")
    return idempotency.fingerprint(
        request.method, request.path, raw_query, request.get_data(cache=True)
    )


def _replay(stored: idempotency.Stored) -> Response:
    response = jsonify(stored.body)
    response.status_code = stored.status
    response.headers.update(stored.headers)
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view: F) -> F:
    """Answer a repeated POST (same ``Idempotency-Key``, same request) with the first answer.

    Only successful answers are kept: a request that failed changed nothing, so its key stays
    free for a corrected retry.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if request.method != "POST" or raw is None:
            return view(*args, **kwargs)
        claimed = idempotency.claim(g.workspace_id, _checked_key(raw), _fingerprint())
        if isinstance(claimed, idempotency.Stored):
            return _replay(claimed)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.release(claimed)
            raise
        if response.status_code >= 400 or not response.is_json:
            idempotency.release(claimed)
            return response
        kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        idempotency.complete(claimed, response.status_code, response.get_json(), kept)
        return response

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def guarded(view: F) -> F:
    """The rate limit per API key, then idempotent replays (POST)."""
    limit = limiter.shared_limit(_rate_limit, scope="api", key_func=_caller, exempt_when=_unlimited)
    return limit(idempotent(view))  # type: ignore[return-value]  # the limiter keeps the signature


def init_app(app: Flask) -> None:
    """Read ``API_RATE_LIMIT`` (config, else environment); a malformed one stops the start.

    :raise ValueError: when it is neither off nor a limit such as ``100 per minute``.
    """
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT))
    configured = str(app.config["API_RATE_LIMIT"] or "").strip()
    if configured.lower() not in ("", "off", "none"):
        parse_many(configured)
