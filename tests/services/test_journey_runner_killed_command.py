"""The ``referral run-journeys`` command killed with SIGKILL half-way through its batch (a
real process on the same SQLite file or PostgreSQL database, on the real clock) pays no
grant twice, queues no message or webhook twice and logs no step twice: its claims hold
until their lease runs out, then another runner finishes every enrolment it left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, func, select, text

from referral.extensions import db
from referral.models import LedgerEntry, OutboxMessage, WebhookDelivery, Workspace
from referral.models.base import utcnow
from referral.models.journey import JourneyEnrolment, JourneyStepLog
from referral.services import webhooks
from referral.services.journey_runner import LEASE, run_due
from tests.services.journey_setup import Shop, end, enrolments, send
from tests.services.test_journey_runner_killed import SLOW_EFFECTS

CUSTOMERS = 30
KILL_AFTER = 6  # enrolments the command has finished when it is killed
APPLICATION = "killed-journey-runner"

# The command in a process of its own, slowed down after each step's effect (inside the
# enrolment's transaction), so that it is killed half-way, most likely with a grant, a
# message or a webhook written and not committed.
COMMAND = (
    SLOW_EFFECTS
    + """
from referral.cli import run_journeys_command

with app.app_context():
    run_journeys_command.main(["--limit", "1000"], standalone_mode=False)
"""
)

STEPS: list[dict[str, Any]] = [
    {"id": "gift", "type": "grant", "reward": "points", "amount": 5},
    send("hello"),
    {"id": "tell", "type": "webhook", "label": "welcomed"},
    end(),
]


def _count(query: Select[Any]) -> int:
    db.session.rollback()
    return int(db.session.scalar(query) or 0)


def _finished() -> int:
    done = JourneyEnrolment.status == "done"
    return _count(select(func.count()).select_from(JourneyEnrolment).where(done))


def _url_of_the_command() -> str:
    """This test's database, named so that PostgreSQL shows the command's connections."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"application_name": APPLICATION})
    return url.render_as_string(hide_password=False)


def _sessions() -> int:
    """The command's sessions PostgreSQL still holds open (0 on SQLite, which has none)."""
    if db.engine.url.get_backend_name() != "postgresql":
        return 0
    alive = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    found = int(db.session.scalar(alive, {"name": APPLICATION}) or 0)
    db.session.rollback()
    return found


def _gone_from_the_server() -> None:
    """Wait until PostgreSQL has ended the dead command's sessions: a transaction it sent
    COMMIT for is then committed or not, and none of its row locks is left."""
    deadline = time.monotonic() + 30
    while _sessions():
        assert time.monotonic() < deadline, "the dead command's sessions stay open"
        time.sleep(0.05)


def _kill_half_way() -> None:
    command = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", COMMAND, _url_of_the_command()],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        deadline = time.monotonic() + 90
        while _finished() < KILL_AFTER:
            assert command.poll() is None, "the command ended before it could be killed"
            assert time.monotonic() < deadline, "the command made no progress"
            time.sleep(0.02)
        postgresql = db.engine.url.get_backend_name() == "postgresql"
        assert _sessions() >= 1 or not postgresql, "the command's sessions are not to be seen"
        os.kill(command.pid, signal.SIGKILL)
    finally:
        command.kill()
        command.wait(timeout=30)
    assert command.returncode == -signal.SIGKILL
    _gone_from_the_server()


def _per_key(query: Select[Any]) -> dict[str, int]:
    db.session.rollback()
    return {key: count for key, count in db.session.execute(query).all()}


@pytest.mark.slow
def test_a_killed_run_journeys_command_pays_queues_and_logs_each_step_once(shop: Shop) -> None:
    workspace = db.session.get(Workspace, shop.workspace_id)
    assert workspace is not None
    webhooks.create_endpoint(workspace, "https://shop.example.com/hooks", ["journey.step"])
    journey = shop.journey(STEPS)
    for _ in range(CUSTOMERS):
        shop.event(shop.person(), "signup_confirmed", at=utcnow() - timedelta(minutes=1))
    _kill_half_way()

    finished = _finished()
    assert KILL_AFTER <= finished < CUSTOMERS  # killed half-way
    # The dead command's claims hold until their lease runs out: nobody runs them meanwhile.
    assert run_due(utcnow()) == 0
    assert _finished() == finished
    # Then another runner takes over every enrolment the dead one left, and only those.
    later = utcnow() + LEASE + timedelta(seconds=1)
    assert run_due(later) == CUSTOMERS - finished
    assert run_due(later + timedelta(seconds=1)) == 0

    rows = enrolments(journey)
    assert [(e.status, e.claimed_until) for e in rows] == [("done", None)] * CUSTOMERS
    logged = db.session.execute(
        select(JourneyStepLog.enrolment_id, JourneyStepLog.step, JourneyStepLog.outcome)
    ).all()
    assert len(logged) == len(set(logged)) == CUSTOMERS * 5  # every step once, none twice
    assert {(step, outcome) for _e, step, outcome in logged} == {
        ("gift", "entered"),
        ("gift", "granted"),
        ("hello", "sent"),
        ("tell", "webhook"),
        ("end", "exit"),
    }
    ledger = _per_key(
        select(LedgerEntry.source_key, func.count())
        .where(LedgerEntry.amount == 5, LedgerEntry.level == 0)
        .group_by(LedgerEntry.source_key)
    )
    assert ledger == {f"journey:{e.id}:gift:1": 1 for e in rows}
    mails = _per_key(
        select(OutboxMessage.dedupe_key, func.count()).group_by(OutboxMessage.dedupe_key)
    )
    assert mails == {f"journey:{e.id}:hello:1": 1 for e in rows}
    calls = _per_key(
        select(WebhookDelivery.event_key, func.count())
        .where(WebhookDelivery.event == "journey.step")
        .group_by(WebhookDelivery.event_key)
    )
    assert calls == {f"journey.step:{e.id}:tell:1": 1 for e in rows}
