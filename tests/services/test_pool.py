"""A PostgreSQL connection is tested after it sat idle in the pool, not before every use.

``extensions.ping_after_idle``: a connection used again at once costs no ping; one that sat
idle longer than the threshold is pinged, and one the server dropped meanwhile is replaced
before the caller sees it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from referral.extensions import db, ping_after_idle

IDLE = 0.3  # seconds: the threshold of these tests


@pytest.fixture
def engine(app: Any) -> Iterator[Engine]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's file connections are never tested")
    found = create_engine(db.engine.url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    ping_after_idle(found, IDLE)
    yield found
    found.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_again_at_once_is_not_pinged(engine: Engine, pings: list[object]) -> None:
    first = _backend(engine)  # a new connection: nothing to test
    again = [_backend(engine) for _ in range(5)]
    assert again == [first] * 5
    assert pings == []


def test_a_connection_that_sat_idle_is_pinged_once_and_used(
    engine: Engine, pings: list[object]
) -> None:
    first = _backend(engine)
    time.sleep(IDLE + 0.2)
    assert _backend(engine) == first
    assert len(pings) == 1
    assert _backend(engine) == first  # and not again straight after
    assert len(pings) == 1


def test_a_connection_the_server_dropped_while_idle_is_replaced_unseen(
    engine: Engine, pings: list[object]
) -> None:
    first = _backend(engine)
    with db.engine.connect() as other:  # the server ends the pooled connection's backend
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
    time.sleep(IDLE + 0.2)
    replaced = _backend(engine)  # no error reaches the caller
    assert replaced != first
    assert len(pings) == 1
