"""Tables partitioned by month on PostgreSQL (see docs/SCALING.md, "Tables that grow").

A table declared with :func:`by_month` is ``PARTITION BY RANGE (<column>)`` on PostgreSQL,
with one partition per calendar month (UTC) named ``<table>_YYYY_MM`` and a default
partition ``<table>_default`` that takes whatever no month holds yet; on SQLite it is an
ordinary table. PostgreSQL insists that the primary key of a partitioned table contains
the partition key, so there the key is written as ``(id, <column>)``; the model (and the
ORM's identity, and SQLite's key) stays ``id``, which the table's sequence keeps unique.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DDL, FromClause, PrimaryKeyConstraint, Table, event
from sqlalchemy.ext.compiler import compiles

PARTITION_KEY = "partition_key"
_PARTITION_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?:default|(?P<year>\d{4})_(?P<month>\d{2}))$")


def by_month(column: str) -> dict[str, Any]:
    """The ``__table_args__`` of a table partitioned by month on ``column`` (on PostgreSQL)."""
    return {"postgresql_partition_by": f"RANGE ({column})", "info": {PARTITION_KEY: column}}


def partition_key(table: Table) -> str | None:
    """The column ``table`` is partitioned on, or None for an ordinary table."""
    key = table.info.get(PARTITION_KEY)
    return str(key) if key else None


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the month ``moment`` falls in."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    """The first instant of the month ``months`` after (or before) ``start``'s month."""
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_{start.year:04d}_{start.month:02d}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def partition_month(table: str, name: str) -> datetime | None:
    """The first instant of the month partition ``name`` of ``table`` holds (None for the
    default partition or a name that is not one of ``table``'s)."""
    found = _PARTITION_NAME.match(name)
    if found is None or found["table"] != table or found["year"] is None:
        return None
    month = int(found["month"])
    return datetime(int(found["year"]), month, 1, tzinfo=UTC) if 1 <= month <= 12 else None


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For Alembic's comparison: a partition is part of its partitioned table, not a table
    of its own that the models lack."""
    if type_ != "table" or name is None:
        return True
    found = _PARTITION_NAME.match(name)
    return found is None or found["table"] not in PARTITIONED


PARTITIONED: dict[str, str] = {}


def register(table: FromClause) -> None:
    """Remember ``table`` as partitioned and give it its default partition when
    ``create_all`` builds it on PostgreSQL, so inserts work before any month exists."""
    key = partition_key(table) if isinstance(table, Table) else None
    if not isinstance(table, Table) or key is None:
        raise ValueError(f"{table} is not a partitioned table")
    PARTITIONED[table.name] = key
    ddl = DDL(
        f'CREATE TABLE IF NOT EXISTS "{default_partition_name(table.name)}" '
        f'PARTITION OF "{table.name}" DEFAULT'
    )
    event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key_with_partition_key(
    constraint: PrimaryKeyConstraint, compiler: Any, **kw: Any
) -> str:
    table = constraint.table
    key = partition_key(table) if isinstance(table, Table) else None
    if key is None or key in constraint.columns:
        return str(compiler.visit_primary_key_constraint(constraint, **kw))
    names = [column.name for column in constraint.columns] + [key]
    body = ", ".join(compiler.preparer.quote(name) for name in names)
    return (
        f"{compiler.define_constraint_preamble(constraint, **kw)}PRIMARY KEY ({body})"
        f"{compiler.define_constraint_deferrability(constraint)}"
    )
