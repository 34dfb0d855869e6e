"""Unbound extensions; ``create_app`` binds them. Importing this builds no app."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event, exc
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names on SQLite and PostgreSQL, so migrations can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def configured_limit(name: str) -> Callable[[], str]:
    """The rate limit ``name`` of the app's configuration (one of ``config.RATE_LIMITS``,
    with its default in ``config.DEFAULTS``), read at each request, for ``limiter.limit``."""
    return lambda: str(current_app.config[name])


babel = Babel()
talisman = Talisman()


# Statements that write (or open a savepoint, which is only ever done to write).
_WRITES = ("insert", "update", "delete", "replace", "savepoint", "create", "drop", "alter")


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:16].lower()
    if head.startswith("with"):
        lowered = statement.lower()
        return any(f" {verb} " in lowered for verb in ("insert", "update", "delete"))
    return head.startswith(_WRITES)


def _locks(context: Any) -> bool:
    """A ``SELECT … FOR UPDATE`` (which SQLite compiles without the clause): the caller
    means to write what it reads, so it takes the write lock first."""
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


# A server's connection that sat in the pool longer than this is tested before it is used.
PING_AFTER_IDLE_SECONDS = 1.0


def ping_after_idle(engine: Engine, seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Test a database server's pooled connection with a ping when it is checked out after
    more than ``seconds`` in the pool, instead of before every use (``pool_pre_ping``).

    A connection goes stale when the server restarts or the network drops it, which a
    connection that sat idle is the one to meet; under load a connection comes back within
    milliseconds and is used again without a round trip. A dead one is replaced before the
    request sees it (the pool's documented answer to ``DisconnectionError``). A restart in
    the second after a connection was last used costs the request on it one failed statement:
    the pool then drops every connection of the old server, and the request answers 503
    (``referral.errors``). SQLite's file connections are never tested.
    """
    if engine.dialect.name == "sqlite":
        return
    dialect = engine.dialect

    def fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since <= seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error

    event.listen(engine, "connect", fresh)
    event.listen(engine, "checkin", fresh)
    event.listen(engine, "checkout", checked_out)


def tune_sqlite(engine: Engine) -> None:
    """SQLite as a real embedded database: enforce foreign keys, let readers and the writer
    work at once (WAL), and wait for a busy writer instead of failing at once.

    A transaction begins deferred, so pages that only read never wait. Its first write turns
    it into a writing transaction: the read part is committed (it changed nothing) and
    ``BEGIN IMMEDIATE`` waits, up to the busy timeout, for the one write lock. Without this a
    transaction that read while another process committed is refused at once with
    "database is locked" (SQLite cannot upgrade an outdated snapshot); with it, reads before
    the first write behave as PostgreSQL's READ COMMITTED does, and constraints keep the
    invariants, as they do there.
    """
    if engine.dialect.name != "sqlite":
        return
    on_disk = engine.url.database not in (None, "", ":memory:")
    event.listen(engine, "connect", _pragmas(on_disk))
    event.listen(engine, "begin", _begin_reading)
    event.listen(engine, "rollback", _forget_transaction)
    event.listen(engine, "commit", _forget_transaction)
    event.listen(engine, "before_cursor_execute", _lock_before_first_write)


def _pragmas(on_disk: bool) -> Any:
    """The "connect" listener: foreign keys, a busy timeout and, for a file, WAL."""

    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling begins late and turns a SAVEPOINT outside a
        # transaction into a commit; SQLAlchemy emits BEGIN itself instead (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if on_disk:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return _on_connect


def _begin_reading(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
    connection.info["sqlite_tx"] = "reading"


def _forget_transaction(connection: Any) -> None:
    connection.info.pop("sqlite_tx", None)


def _lock_before_first_write(
    connection: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    """The first write of a reading transaction ends it and waits for the write lock."""
    if connection.info.get("sqlite_tx") != "reading":
        return
    if not (_writes(statement) or _locks(context)):
        return
    connection.info["sqlite_tx"] = "writing"
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")
