"""How many rows an UPDATE or DELETE run through the session changed.

The conditional updates that claim a row (a coupon, a prize, a delivery, an outbox message)
and the sweeps that report how much they did read the count from the result.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def affected_rows(result: Result[*tuple[Any, ...]]) -> int:
    """The rows that the UPDATE or DELETE (without RETURNING) behind ``result`` matched.

    ``Session.execute`` returns a ``CursorResult`` for such a statement, which counts them,
    but is annotated as returning a plain ``Result``, since a session cannot promise a cursor
    for every statement; the narrowing is done here, once.
    """
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount
