"""Rows written once, and how many rows an UPDATE or DELETE run through the session changed.

``insert_once`` is the portable ``INSERT … ON CONFLICT DO NOTHING`` behind every write that
a unique key makes idempotent without a savepoint (enrolments, tags, ledger lines, webhook
deliveries). The conditional updates that claim a row (a coupon, a prize, a delivery, an
outbox message) and the sweeps that report how much they did read the count from the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite

from referral.extensions import db


def affected_rows(result: Result[*tuple[Any, ...]]) -> int:
    """The rows that the UPDATE or DELETE (without RETURNING) behind ``result`` matched.

    ``Session.execute`` returns a ``CursorResult`` for such a statement, which counts them,
    but is annotated as returning a plain ``Result``, since a session cannot promise a cursor
    for every statement; the narrowing is done here, once.
    """
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


M = TypeVar("M")


def _insert_ignoring(
    model: type[Any], values: dict[str, Any] | list[dict[str, Any]], unique: Sequence[str]
) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` of one row or of several, in the
    session's dialect."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).values(values).on_conflict_do_nothing(index_elements=list(unique))


def insert_once(model: type[Any], values: dict[str, Any], unique: Sequence[str]) -> int | None:
    """Insert a row unless one with the same ``unique`` columns exists (also one another
    transaction is inserting: it waits for it); the new id, or None. Portable ``INSERT …
    ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL, in the caller's transaction."""
    statement = _insert_ignoring(model, values, unique).returning(model.id)
    result: int | None = db.session.execute(statement).scalar()
    return result


def insert_row_once(model: type[M], values: dict[str, Any], unique: Sequence[str]) -> M | None:
    """As :func:`insert_once`, and the new row as a loaded object of the session."""
    statement = _insert_ignoring(model, values, unique).returning(model)
    row: M | None = db.session.scalars(statement).first()
    return row


def insert_all_once(
    model: type[Any], rows: list[dict[str, Any]], unique: Sequence[str], chunk: int = 500
) -> int:
    """Insert ``rows``, skipping each whose ``unique`` columns exist (also rows a concurrent
    transaction is inserting: it waits for it); how many were inserted. Multi-row
    ``INSERT … ON CONFLICT DO NOTHING``, ``chunk`` rows a statement."""
    inserted = 0
    for start in range(0, len(rows), chunk):
        statement = _insert_ignoring(model, rows[start : start + chunk], unique)
        inserted += len(db.session.execute(statement.returning(model.id)).all())
    return inserted
