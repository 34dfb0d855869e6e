"""Work a transaction leaves for the worker, handed over only once it is committed.

A service that queues mail or makes a journey step due marks its session
(``due("mail")``, ``due("journeys")``); when that session commits, the hooks registered by
the worker module (``referral.tasks``) enqueue the jobs. A rolled-back transaction wakes
nothing, and a request never waits for the work itself (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from referral.extensions import db

KEY = "referral.due"
_hooks: dict[str, Callable[[], None]] = {}


def due(kind: str) -> None:
    """Mark the current transaction: when it commits, wake the worker for ``kind``."""
    db.session.info.setdefault(KEY, set()).add(kind)


def on_commit(kind: str, hook: Callable[[], None]) -> None:
    """What to run after a commit that marked ``kind`` (one hook per kind)."""
    _hooks[kind] = hook


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the work is not committed until the transaction is
    for kind in sorted(session.info.pop(KEY, ())):
        hook = _hooks.get(kind)
        if hook is not None:
            hook()


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back transaction leaves nothing to do (a savepoint's rollback keeps the
    marks: waking for work that is not there costs the worker one empty look)."""
    if previous.parent is None:
        session.info.pop(KEY, None)


def listen() -> None:
    """Attach the hooks to every session (idempotent)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
