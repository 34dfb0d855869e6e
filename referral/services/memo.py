"""What one transaction reads once: the configuration rows that every sign-up, confirmation
and event consults (a campaign's reward rules, a workspace's journeys and webhook
endpoints).

``remember(key, load)`` keeps ``load()``'s result in the session until the transaction
ends: a commit or a rollback (also a savepoint's) forgets it, and so does any write to a
watched model in the same session (a flush of one, or an ORM ``UPDATE``/``DELETE``; as a
query would, ``remember`` first flushes pending changes to a watched model), so a
transaction always sees its own changes. Another transaction's change is seen by the next
transaction, as with a fresh query.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from referral.extensions import db

T = TypeVar("T")
KEY = "referral.memo"
_watched: set[type[Any]] = set()


def remember(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, read once per transaction under ``key``."""
    session = db.session()
    if session.autoflush and _writes_watched(session):
        session.flush()  # as the query would: the flush of a watched model forgets
    store: dict[Hashable, Any] = session.info.setdefault(KEY, {})
    if key in store:
        value: T = store[key]
        return value
    value = store[key] = load()
    return value


def watch(*models: type[Any]) -> None:
    """Forget what was remembered whenever one of ``models`` is written in the session."""
    _watched.update(models)


def forget(session: Session, *_: object) -> None:
    session.info.pop(KEY, None)


def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a released savepoint keeps the transaction
        forget(session)


def _writes_watched(session: Session) -> bool:
    return any(type(row) in _watched for row in chain(session.new, session.dirty, session.deleted))


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    if KEY in session.info and _writes_watched(session):
        forget(session)


def _on_execute(state: ORMExecuteState) -> None:
    if KEY not in state.session.info or not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ in _watched:
        forget(state.session)


def listen() -> None:
    """Attach the hooks to every session (idempotent)."""
    if event.contains(Session, "after_commit", _after_commit):
        return
    event.listen(Session, "after_commit", _after_commit)
    for name in ("after_rollback", "after_soft_rollback"):
        event.listen(Session, name, forget)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
