"""The statements a piece of work sends to the database, for tests that count or explain them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from referral.extensions import db


def sent_while(action: Callable[[], object]) -> list[tuple[str, Any]]:
    """Each statement (and its parameters) sent to the driver while ``action()`` runs, as
    the engine's ``before_cursor_execute`` listeners see it."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return sent
