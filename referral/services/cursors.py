"""Cursor pagination: a ``limit`` (default 50, max 500) and an opaque ``cursor``.

Pages are in id order and a cursor names the last id seen, so walking every page returns
every row exactly once even while rows are added.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.services.ids import parse_id

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

_PREFIX = "after:"
CURSOR_MAX = 64
# What a cursor we made looks like (unpadded URL-safe base64), as the document states it.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CURSOR_ERROR = N_("This cursor is not valid; start again without it.")


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One page of rows, and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed.on("cursor", CURSOR_ERROR)


def decode_cursor(cursor: str) -> int:
    """The last id of the previous page. :raise ValidationFailed: on anything we did not make."""
    if len(cursor) > CURSOR_MAX or not cursor.isascii():
        raise _bad_cursor()
    try:
        padded = (cursor + "=" * (-len(cursor) % 4)).encode("ascii")
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    last_id = parse_id(text.removeprefix(_PREFIX)) if text.startswith(_PREFIX) else None
    if last_id is None:
        raise _bad_cursor()
    return last_id


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def _size(limit: Any) -> int:
    if limit in (None, ""):
        return DEFAULT_LIMIT
    whole = N_("limit must be a whole number.")
    if isinstance(limit, bool):
        raise ValidationFailed.on("limit", whole)
    try:
        size = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed.on("limit", whole) from None
    if not 1 <= size <= MAX_LIMIT:
        raise ValidationFailed.on(
            "limit", N_("limit must be between 1 and %(max)s."), {"max": MAX_LIMIT}
        )
    return size


def page(query: Select[Any], id_column: Any, limit: Any, cursor: str | None) -> CursorPage[Any]:
    """The rows of ``query`` after ``cursor`` in id order, and the cursor of the next page.

    :raise ValidationFailed: on ``limit`` out of 1..500 or a malformed ``cursor``.
    """
    size = _size(limit)
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows = list(db.session.scalars(query.order_by(id_column).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return CursorPage(rows, encode_cursor(rows[-1].id) if more and rows else None)
