"""Rate-limit counters every worker shares, without Redis: a small SQLite file.

``limits`` keeps its counters in memory by default, one set per process: with several
gunicorn workers a limit of 20 per minute then lets 20 per worker through. With ``REDIS_URL``
the counters live in Redis; without it they live in ``instance/ratelimits.sqlite`` (the
``referral-sqlite://`` storage below), which every worker on the machine opens. Each count
is one atomic upsert in WAL mode, so a request spends well under a millisecond on it.

Only the fixed-window strategy is offered (the one the app configures).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage

SCHEME = "referral-sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID
"""
# One statement: a fresh window, or one more in the running window.
_INCR = """
INSERT INTO counters (key, count, expires) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires <= ?4 THEN excluded.count
                 ELSE counters.count + excluded.count END,
    expires = CASE WHEN counters.expires <= ?4 THEN excluded.expires ELSE counters.expires END
RETURNING count
"""
_PRUNE_EVERY = 1000  # increments between removals of expired windows


def storage_uri(instance_path: str) -> str:
    return f"{SCHEME}://{Path(instance_path) / 'ratelimits.sqlite'}"


class SQLiteStorage(Storage):
    """Fixed-window counters in a SQLite file shared by the processes of one machine."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        self.path = uri.removeprefix(f"{SCHEME}://") or ":memory:"
        self._local = threading.local()
        self._increments = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # counters, not records
            connection.execute("PRAGMA busy_timeout=10000")
            connection.execute(_SCHEMA)
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        row = self._db().execute(_INCR, (key, amount, now + expiry, now)).fetchone()
        self._increments += 1
        if self._increments % _PRUNE_EVERY == 0:
            self._db().execute("DELETE FROM counters WHERE expires <= ?", (now,))
        return int(row[0])

    def decr(self, key: str, amount: int = 1) -> int:
        row = (
            self._db()
            .execute(
                "UPDATE counters SET count = max(count - ?, 0) WHERE key = ? RETURNING count",
                (amount, key),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get(self, key: str) -> int:
        row = (
            self._db()
            .execute("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._db().execute("DELETE FROM counters")
        return cursor.rowcount
