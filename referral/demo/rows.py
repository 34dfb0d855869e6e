"""Demo rows added to the session and flushed, so that their ids are known at once."""

from __future__ import annotations

from typing import TypeVar

from referral.extensions import db

T = TypeVar("T")


def flushed(row: T) -> T:
    db.session.add(row)
    db.session.flush()
    return row


def all_flushed(rows: list[T]) -> list[T]:
    db.session.add_all(rows)
    db.session.flush()
    return rows
