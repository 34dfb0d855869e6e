"""Request bodies: JSON objects in UTF-8, or a 400 that says what is wrong (never a 500)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request

from referral.domain.errors import N_, DomainError

F = TypeVar("F", bound=Callable[..., Any])


class MalformedRequest(DomainError):
    """The body cannot be read as a JSON object (answered 400)."""

    status = 400
    title = N_("Bad request")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object.

    :raise MalformedRequest: when not sent as JSON, empty, not UTF-8, not valid JSON (NaN and
        Infinity included) or not an object.
    """
    if not request.is_json:
        raise MalformedRequest(
            N_("Send the body as JSON with the header 'Content-Type: application/json'.")
        )
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 from here
    if not raw.strip():
        raise MalformedRequest(N_("The request body is empty; send a JSON object."))
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise MalformedRequest(N_("The request body is not valid UTF-8.")) from None
    except (ValueError, RecursionError):
        raise MalformedRequest(N_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise MalformedRequest(N_("The request body must be a JSON object."))
    return data


def json_object_required(view: F) -> F:
    """Check the body before schema validation (put it below ``auth_required``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        read_json_object()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature
