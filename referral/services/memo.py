"""What one transaction reads once: the configuration rows that every sign-up, confirmation
and event consults (a campaign's reward rules, a workspace's journeys and webhook
endpoints).

``remember(key, load)`` keeps ``load()``'s result in the session until the transaction
ends: a commit or a rollback (also a savepoint's) forgets it, and so does any write to a
watched model in the same session (a flush of one, or an ORM ``UPDATE``/``DELETE``; as a
query would, ``remember`` first flushes pending changes to a watched model), so a
transaction always sees its own changes. Another transaction's change is seen by the next
transaction, as with a fresh query.

``shared(key, load)`` also keeps the result in this process across transactions, under the
token of ``config_version`` that the transaction read (``models.config_version``: the
database replaces it, with a random value, on every change of the configuration tables).
A transaction reads the token once, one primary-key lookup, instead of each configuration
query; a change committed by anyone, anywhere, draws a new token, so the next transaction
loads afresh. Rows of a model are kept as their column values, and each transaction gets
objects of its own session built from them (``services.rows.as_loaded``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import event, inspect, literal, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from referral.extensions import db
from referral.models.config_version import ConfigVersion
from referral.services.rows import as_loaded, first_row

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


_TOKEN_KEY = ("referral.config_version",)
_READ_VERSION = select(ConfigVersion.token).where(ConfigVersion.id == literal(1))
_kept: dict[Hashable, tuple[str, Any]] = {}
KEPT_MAX = 1024  # keys kept across transactions (per campaign or workspace, kind, language)


def shared(key: Hashable, load: Callable[[], T], rows: type[Any] | None = None) -> T:
    """``load()``, read once per transaction under ``key``, and kept across transactions
    while the configuration's token stays the same (see the module docstring).

    With ``rows``, ``load`` returns a list of rows of that model, or a dict of them: they are
    kept as their column values (JSON values copied for each transaction) and handed out as
    objects of the session. Without, the value must be immutable in use (tuples, frozen
    data classes); a list is handed out as a copy.
    """
    return remember(key, lambda: _across(key, load, rows))


def _across(key: Hashable, load: Callable[[], T], rows: type[Any] | None) -> T:
    token = remember(_TOKEN_KEY, _token)
    if token is None:  # no token row (an emptied table): read each time, keep nothing
        return load()
    hit = _kept.get(key)
    if hit is not None and hit[0] == token:
        thawed: T = _thaw(hit[1], rows)
        return thawed
    value = load()
    if len(_kept) >= KEPT_MAX:
        _kept.clear()
    _kept[key] = (token, _freeze(value, rows))
    return value


def _token() -> str | None:
    found = first_row(_READ_VERSION, {})  # on the driver: the read of every transaction
    return None if found is None or found[0] is None else str(found[0])


def _columns(row: Any) -> dict[str, Any]:
    mapper = inspect(row).mapper
    return {attribute.key: getattr(row, attribute.key) for attribute in mapper.column_attrs}


class _Listed(tuple[Any, ...]):
    """A kept list: handed out as a new list each time."""


def _freeze(value: Any, rows: type[Any] | None) -> Any:
    if rows is None:
        return _Listed(value) if isinstance(value, list) else value
    if isinstance(value, dict):
        return {name: _columns(row) for name, row in value.items()}
    return [_columns(row) for row in value]


def _thaw(kept: Any, rows: type[Any] | None) -> Any:
    if rows is None:
        return list(kept) if isinstance(kept, _Listed) else kept
    if isinstance(kept, dict):
        return {name: as_loaded(rows, _copied(values)) for name, values in kept.items()}
    return [as_loaded(rows, _copied(values)) for values in kept]


def _copied(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with its JSON values (dicts and lists) copied: a transaction that changes
    its object's changes nothing kept."""
    return {name: _json_copy(value) for name, value in values.items()}


def _json_copy(value: Any) -> Any:
    """A copy of a JSON value: its dicts and lists new, the rest (immutable) shared."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
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
