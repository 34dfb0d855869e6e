"""The unit of work: one transaction per use case, and transactions that survive contention.

A service function decorated with :func:`atomic` (or a block under ``with atomic():``)
commits when it returns and rolls back when it raises, whatever it raises: a domain error
(``ValidationFailed``, ``Conflict``, ``NotFound``, …), an ``IntegrityError`` or anything
else, so a refused request changes nothing. A service that treats a duplicate as "already
done" catches the ``IntegrityError`` of its own savepoint (``db.session.begin_nested()``)
and carries on; only what escapes the function rolls the unit back. Units nest: a service
called from inside another one joins the outer transaction, which alone commits.

PostgreSQL serialises conflicting writes on its own (a duplicate insert waits, then fails
with IntegrityError, which the services treat as "already done"). SQLite has one writer at a
time: a transaction that read first and then wants to write can be refused at once with
"database is locked" when another writer committed in between. Such a transaction is rolled
back and run again, a few times, with a little random back-off; the decorated form of
:func:`atomic` and :func:`retry_on_contention` both do this, at the outermost unit only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import wraps
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, overload

from sqlalchemy.exc import OperationalError

from referral.extensions import db
from referral.services.rows import as_loaded, committed_columns

P = ParamSpec("P")
R = TypeVar("R")
ATTEMPTS = 12
_DEPTH = "referral.unit_depth"
_KEPT = "referral.kept_loaded"


def _is_contention(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


def in_unit() -> bool:
    """Whether the current session is inside an :func:`atomic` unit."""
    depth: int = db.session.info.get(_DEPTH, 0)
    return depth > 0


def _retrying(run: Callable[[], R]) -> R:
    """``run()``, run again after a rollback while the database reports write contention."""
    for attempt in range(ATTEMPTS):
        try:
            return run()
        except OperationalError as error:
            db.session.rollback()
            if not _is_contention(error) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311
    raise AssertionError("unreachable")


def retry_on_contention(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` again after a rollback when the database reports write contention.

    ``fn`` commits on its own. Inside an :func:`atomic` unit it runs once: a rollback would
    throw away the outer unit's work too, so the outermost unit retries the whole of it.
    """

    @wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if in_unit():
            return fn(*args, **kwargs)
        return _retrying(lambda: fn(*args, **kwargs))

    return wrapped


def keep_loaded(*rows: Any) -> None:
    """Let ``rows`` (objects of the session) keep, after the outermost unit commits, the
    values that unit committed for their columns, instead of being expired by the commit
    and loaded again at their next use: what the caller reads of them right after the
    commit (a page that shows the row just written) is what the commit stored, as a
    reload at that moment would find it. Outside a unit, or when the unit rolls back,
    nothing is kept."""
    if in_unit():
        db.session.info.setdefault(_KEPT, []).extend(rows)


def _commit() -> None:
    """Commit the session; the rows given to :func:`keep_loaded` keep what was committed."""
    session = db.session()
    kept = session.info.pop(_KEPT, None)
    if not kept:
        session.commit()
        return
    session.flush()  # what the commit would flush: the values kept are the stored ones
    stored = [(type(row), committed_columns(row)) for row in kept]
    session.commit()
    for model, values in stored:
        if values is not None:
            as_loaded(model, values)


@contextmanager
def _unit() -> Iterator[None]:
    info = db.session.info
    depth = info.get(_DEPTH, 0)
    info[_DEPTH] = depth + 1
    try:
        yield
        if depth == 0:
            _commit()
    except BaseException:
        if depth == 0:
            info.pop(_KEPT, None)
            db.session.rollback()
        raise
    finally:
        info[_DEPTH] = depth


class _Atomic:
    """What :func:`atomic` returns: a context manager that also decorates."""

    def __init__(self) -> None:
        self._units: list[AbstractContextManager[None]] = []

    def __enter__(self) -> None:
        unit = _unit()
        self._units.append(unit)
        unit.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool | None:
        return self._units.pop().__exit__(kind, error, trace)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        @wraps(fn)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            def run() -> R:
                with _unit():
                    return fn(*args, **kwargs)

            return run() if in_unit() else _retrying(run)

        return wrapped


@overload
def atomic(fn: Callable[P, R]) -> Callable[P, R]: ...
@overload
def atomic(fn: None = None) -> _Atomic: ...
def atomic(fn: Callable[P, R] | None = None) -> Callable[P, R] | _Atomic:
    """One unit of work: commit on success, roll back and re-raise on any error.

    ``@atomic`` (or ``@atomic()``) on a service function also runs it again, from the
    start, when SQLite or PostgreSQL reports write contention; ``with atomic():`` around
    a block commits or rolls back the block (a block cannot be run again). Inside another
    unit, either form joins it: nothing is committed, rolled back or retried until the
    outermost unit ends.
    """
    unit = _Atomic()
    return unit if fn is None else unit(fn)
