"""Rows written once, and how many rows an UPDATE or DELETE run through the session changed.

``insert_once`` is the portable ``INSERT … ON CONFLICT DO NOTHING`` behind every write that
a unique key makes idempotent without a savepoint (enrolments, tags, ledger lines, webhook
deliveries). The conditional updates that claim a row (a coupon, a prize, a delivery, an
outbox message) and the sweeps that report how much they did read the count from the result.

The statements are built once per table, key and dialect and reused with each row's values
as parameters: building and coercing a statement costs more than running it, and a reused
statement keeps its cache key, so SQLAlchemy compiles it once. They are Core inserts of the
table (with the columns' defaults); a row that the caller needs as an object is loaded into
the session from the statement's ``RETURNING``, as a query would load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Executable, Result, select
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
_built: dict[tuple[Any, ...], Any] = {}


def _insert_ignoring(model: type[Any], unique: Sequence[str] | None, returns: str) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` (``unique`` None: a plain ``INSERT``)
    into ``model``'s table, in the session's dialect, returning its id (``"id"``) or the
    whole row as an object (``"row"``), or nothing (``""``); built once, run with the values
    as parameters."""
    dialect = db.session.get_bind().dialect.name
    key = (model, tuple(unique or ()), unique is None, dialect, returns)
    built = _built.get(key)
    if built is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = model.__table__
        statement = insert(table)
        if unique is not None:
            statement = statement.on_conflict_do_nothing(index_elements=list(unique))
        if returns == "id":
            built = statement.returning(table.c.id)
        elif returns == "row":
            built = select(model).from_statement(statement.returning(*table.c))
        else:
            built = statement
        _built[key] = built
    return built


def insert_once(model: type[Any], values: dict[str, Any], unique: Sequence[str]) -> int | None:
    """Insert a row unless one with the same ``unique`` columns exists (also one another
    transaction is inserting: it waits for it); the new id, or None. Portable ``INSERT …
    ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL, in the caller's transaction."""
    statement: Executable = _insert_ignoring(model, unique, "id")
    result: int | None = db.session.execute(statement, values).scalar()
    return result


def insert_row_once(model: type[M], values: dict[str, Any], unique: Sequence[str]) -> M | None:
    """As :func:`insert_once`, and the new row as a loaded object of the session."""
    statement: Executable = _insert_ignoring(model, unique, "row")
    row: M | None = db.session.scalars(statement, values).first()
    return row


def insert(model: type[Any], values: dict[str, Any]) -> None:
    """Insert a row now, for a table whose rows the caller does not read back (a consent, a
    token): no object is made for it."""
    statement: Executable = _insert_ignoring(model, None, "")
    db.session.execute(statement, values)


def insert_row(model: type[M], values: dict[str, Any]) -> M:
    """Insert a row now and return it as a loaded object of the session (a duplicate of a
    unique key raises ``IntegrityError``, as a flush would)."""
    statement: Executable = _insert_ignoring(model, None, "row")
    row: M = db.session.scalars(statement, values).one()
    return row


def insert_all_once(
    model: type[Any], rows: list[dict[str, Any]], unique: Sequence[str], chunk: int = 500
) -> int:
    """Insert ``rows``, skipping each whose ``unique`` columns exist (also rows a concurrent
    transaction is inserting: it waits for it); how many were inserted. Multi-row
    ``INSERT … ON CONFLICT DO NOTHING``, ``chunk`` rows a statement."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = 0
    for start in range(0, len(rows), chunk):
        statement = (
            insert(model)
            .values(rows[start : start + chunk])
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(model.id)
        )
        inserted += len(db.session.execute(statement).all())
    return inserted


def insert_many_once(model: type[Any], rows: list[dict[str, Any]], unique: Sequence[str]) -> None:
    """Insert ``rows`` (each with the same columns), skipping each whose ``unique`` columns
    exist (also rows a concurrent transaction is inserting: it waits for it). One statement
    built once and run with the rows as parameters (the driver batches them), which costs
    far less than compiling a multi-row ``VALUES`` for every call."""
    if rows:
        statement: Executable = _insert_ignoring(model, unique, "")
        db.session.execute(statement, rows)
