"""Ids in paths and cursors: the positive whole numbers an INTEGER key can hold.

Anything else names no row, and must be answered as such without reaching the database,
where an oversized number is an error (PostgreSQL: "integer out of range"), not a miss.
"""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1  # the largest PostgreSQL INTEGER (the primary keys' type)
_DIGITS = re.compile(r"[1-9][0-9]{0,9}")  # ASCII digits only, no sign, no leading zero


def parse_id(text: str) -> int | None:
    """The id written in ``text``, or None when it is not one (``"01"``, ``"+1"``, ``"1.0"``,
    ``"\u0661"``, or beyond :data:`MAX_ID`)."""
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
