"""Rate limits that hold across workers without Redis, answer 429 with Retry-After and
leave other campaigns alone (the shared SQLite counters of referral/ratelimits.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral import config as settings
from referral import create_app
from referral.extensions import db
from referral.models import Participation
from referral.ratelimits import SQLiteStorage, storage_uri
from tests.factories import Factory
from tests.web.conftest import join_through_form


def test_two_storages_on_one_file_count_together(tmp_path: Path) -> None:
    uri = storage_uri(str(tmp_path))
    first, second = SQLiteStorage(uri), SQLiteStorage(uri)
    assert [first.incr("k", 60), second.incr("k", 60), first.incr("k", 60)] == [1, 2, 3]
    assert second.get("k") == 3 and first.get_expiry("k") > time.time()
    first.clear("k")
    assert second.get("k") == 0


def test_a_window_that_ran_out_starts_again_at_one(tmp_path: Path) -> None:
    storage = SQLiteStorage(storage_uri(str(tmp_path)))
    assert storage.incr("k", 0.05) == 1 and storage.incr("k", 0.05) == 2
    time.sleep(0.06)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1


def test_concurrent_increments_lose_no_count(tmp_path: Path) -> None:
    uri = storage_uri(str(tmp_path))

    def work() -> None:
        storage = SQLiteStorage(uri)  # one per thread, as one per worker process
        for _ in range(50):
            storage.incr("burst", 60)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SQLiteStorage(uri).get("burst") == 400


def test_a_real_run_shares_its_counters_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    config = settings.from_environment(str(tmp_path))
    assert config["RATELIMIT_STORAGE_URI"] == storage_uri(str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert settings.from_environment(str(tmp_path))["RATELIMIT_STORAGE_URI"].startswith("redis")


def test_two_processes_count_together(tmp_path: Path) -> None:
    """As two gunicorn workers do: separate processes, one counter file."""
    uri = storage_uri(str(tmp_path))
    script = (
        "import sys; from referral.ratelimits import SQLiteStorage; s = SQLiteStorage(sys.argv[1])"
        "\nfor _ in range(100): s.incr('shared', 60)"
    )
    processes = [subprocess.Popen([sys.executable, "-c", script, uri]) for _ in range(2)]  # noqa: S603
    assert [p.wait(timeout=60) for p in processes] == [0, 0]
    assert SQLiteStorage(uri).get("shared") == 200


@pytest.fixture
def workers(app: Flask, tmp_path: Path) -> list[Flask]:
    """Two app instances on the test's database and the shared counter file."""
    config = {
        **settings.test_config(app.config["SQLALCHEMY_DATABASE_URI"]),
        "RATELIMIT_STORAGE_URI": storage_uri(str(tmp_path / "shared")),
        "JOIN_RATE_LIMIT": "4 per minute",
        "JOIN_CAMPAIGN_RATE_LIMIT": "1000 per minute",
        "CONFIRM_RATE_LIMIT": "5 per minute",
    }
    return [create_app(config), create_app(config)]


def joined() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Participation)) or 0


def test_the_per_address_sign_up_limit_bites_with_429_and_retry_after(
    workers: list[Flask], factory: Factory
) -> None:
    campaign = factory.campaign(status="live", slug="burst")
    other = factory.campaign(status="live", slug="calm")
    db.session.commit()
    answers = [
        join_through_form(workers[i % 2].test_client(), campaign, f"p{i}@example.com")
        for i in range(8)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses.count(429) == 4, statuses
    assert all(s in (200, 302, 303) for s in statuses[:4]), statuses
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) > 0
    assert joined() == 4
    # Another address is not slowed down, on this campaign or another.
    fresh = join_through_form(workers[0].test_client(), other, "q@example.com", ip="203.0.113.9")
    assert fresh.status_code in (200, 302, 303)


def test_guessing_confirmation_links_is_throttled(workers: list[Flask]) -> None:
    env: Any = {"REMOTE_ADDR": "198.51.100.7"}
    statuses = [
        workers[i % 2].test_client().get(f"/confirm/guess-{i}", environ_base=env).status_code
        for i in range(8)
    ]
    assert statuses == [404] * 5 + [429] * 3
    other = workers[0].test_client().get("/confirm/x", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 404


def test_the_sign_up_limit_set_in_the_environment_governs_the_form(
    app: Flask, factory: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator who sets ``JOIN_RATE_LIMIT`` gets that limit on the join form."""
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("JOIN_RATE_LIMIT", "2 per minute")
    environment = settings.from_environment(str(tmp_path))
    limits = {name: environment[name] for name in settings.RATE_LIMITS}
    worker = create_app({**settings.test_config(app.config["SQLALCHEMY_DATABASE_URI"]), **limits})
    campaign = factory.campaign(status="live", slug="tuned")
    db.session.commit()
    statuses = [
        join_through_form(worker.test_client(), campaign, f"t{i}@example.com").status_code
        for i in range(3)
    ]
    assert statuses == [303, 303, 429]
    assert joined() == 2


def test_with_the_shared_counters_unreachable_limits_hold_per_process_and_nothing_fails(
    app: Flask,
) -> None:
    """Redis down (here: nothing listens on its port) answers no 500: the process counts
    in memory until the storage is back."""
    config = {
        **settings.test_config(app.config["SQLALCHEMY_DATABASE_URI"]),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        "CONFIRM_RATE_LIMIT": "5 per minute",
    }
    worker = create_app(config)
    env: Any = {"REMOTE_ADDR": "198.51.100.8"}
    client = worker.test_client()
    statuses = [client.get(f"/confirm/guess-{i}", environ_base=env).status_code for i in range(8)]
    assert statuses == [404] * 5 + [429] * 3
