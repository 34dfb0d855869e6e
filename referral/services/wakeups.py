"""Work a transaction leaves for the worker, handed over only once it is committed.

A service that queues mail or makes a journey step due marks its session
(``due("mail")``, ``due("journeys")``); when that session commits, the hooks registered by
the worker module (``referral.tasks``) enqueue the jobs. A rolled-back transaction wakes
nothing, and a request never waits for the work itself (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from referral.extensions import db

log = logging.getLogger("referral.wakeups")
KEY = "referral.due"
_hooks: dict[str, Callable[[], None]] = {}
# Seconds at least between two wakes of the worker from one process (``Coalesced``): what a
# burst of commits adds to a mail's way out, at most.
SPACING = 0.05


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


class Coalesced:
    """``send`` (a job's enqueue) run by a background thread of the process, for the many
    commits that ask for it: a commit only sets a flag, and the thread sends once for every
    request that arrived since its last send.

    Nothing is lost: the thread clears the flag *before* it sends, so a commit made before
    the clear is covered by that send (the job reads the database after it), and a commit
    made after it sets the flag again for the next one. Under a burst the sends come
    ``spacing`` seconds apart (:data:`SPACING`), each covering all the commits made
    meanwhile: one job wakes the worker for all of them, where a send per commit would
    queue jobs that find nothing left to do and take the process's time from its requests.
    When the process exits, a pending request is sent. The thread starts on first use in
    each process (so also in each forked server worker).
    """

    def __init__(self, send: Callable[[], None], name: str, spacing: float | None = None) -> None:
        self.send = send
        self.name = name
        self.spacing = SPACING if spacing is None else spacing
        self.asked = threading.Event()
        self._pid: int | None = None
        self._guard = threading.Lock()

    def __call__(self) -> None:
        if self._pid != os.getpid():
            self._start()
        self.asked.set()

    def _start(self) -> None:
        with self._guard:
            if self._pid == os.getpid():
                return
            self.asked = threading.Event()  # a forked child starts with its own
            thread = threading.Thread(target=self._run, name=f"wake-{self.name}", daemon=True)
            thread.start()
            if self._pid is None:
                atexit.register(self.drain)
            self._pid = os.getpid()

    def _run(self) -> None:
        asked = self.asked
        pause = threading.Event()  # never set: waits out the spacing
        while True:
            asked.wait()
            self.drain()
            pause.wait(self.spacing)

    def drain(self) -> None:
        """Send now if a commit asked since the last send."""
        if not self.asked.is_set():
            return
        self.asked.clear()
        try:
            self.send()
        except Exception:  # the thread must survive; the periodic jobs cover the work
            log.warning("waking the worker for %s failed", self.name, exc_info=True)
