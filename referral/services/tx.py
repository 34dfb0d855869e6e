"""Transactions that survive contention.

PostgreSQL serialises conflicting writes on its own (a duplicate insert waits, then fails
with IntegrityError, which the services treat as "already done"). SQLite has one writer at a
time: a transaction that read first and then wants to write can be refused at once with
"database is locked" when another writer committed in between. Such a transaction is rolled
back and run again, a few times, with a little random back-off.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import OperationalError

from referral.extensions import db

P = ParamSpec("P")
R = TypeVar("R")
ATTEMPTS = 12


def _is_contention(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


def retry_on_contention(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` again after a rollback when the database reports write contention."""

    @wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except OperationalError as error:
                db.session.rollback()
                if not _is_contention(error) or attempt == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311
        raise AssertionError("unreachable")

    return wrapped
