"""Foreign keys as the models declare them: to the row a row belongs to, or an optional one."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column


def parent_key(table: str, *, index: bool = True, unique: bool = False) -> Mapped[int]:
    """The required key of the row of ``table`` this one belongs to, deleted with it (ON
    DELETE CASCADE). Indexed, to find a parent's rows; ``unique`` for at most one row per
    parent (a unique constraint, no index); ``index=False`` where another index or key
    starts with it."""
    return mapped_column(
        ForeignKey(f"{table}.id", ondelete="CASCADE"),
        index=(index and not unique) or None,
        unique=unique or None,
        nullable=False,
    )


def optional_key(
    table: str, *, ondelete: str = "SET NULL", index: bool = False, unique: bool = False
) -> Mapped[int | None]:
    """An optional key of a row of ``table``: emptied when that row goes (``SET NULL``), or
    as ``ondelete`` says."""
    return mapped_column(
        ForeignKey(f"{table}.id", ondelete=ondelete), index=index or None, unique=unique or None
    )
