"""A journey runner killed with SIGKILL in the middle of a run (a real process, on the same
database file or PostgreSQL server) leaves no step run twice and no message queued twice:
its claims hold until their lease runs out, then another runner takes the rest over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, func, select

from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.journey import JourneyEnrolment, JourneyStepLog
from referral.services.journey_runner import LEASE, run_due
from tests.services.journey_setup import T0, Shop, end, enrolments, send

CUSTOMERS = 40
KILL_AFTER = 8  # messages the runner has committed when it is killed

# The runner of the journeys in a process of its own, slowed down after each step's effect
# (inside the enrolment's transaction), so that it is killed half-way, most likely inside a
# transaction that has queued a message and not committed it.
SLOW_EFFECTS = """
import sys, time
from referral import create_app
from referral.config import test_config
from referral.services import journey_effects

applied = journey_effects.apply

def slowly(*args, **kwargs):
    outcome = applied(*args, **kwargs)
    time.sleep(0.05)
    return outcome

journey_effects.apply = slowly
app = create_app(test_config(sys.argv[1]))
"""
RUNNER = (
    SLOW_EFFECTS
    + """
from datetime import datetime
from referral.services import journey_runner

with app.app_context():
    journey_runner.run_due(datetime.fromisoformat(sys.argv[2]), limit=1000)
"""
)


def _count(query: Select[Any]) -> int:
    db.session.rollback()
    return int(db.session.scalar(query) or 0)


def _sent() -> int:
    return _count(
        select(func.count()).select_from(JourneyStepLog).where(JourneyStepLog.outcome == "sent")
    )


def _kill_half_way(url: str) -> None:
    runner = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", RUNNER, url, T0.isoformat()],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        deadline = time.monotonic() + 90
        while _sent() < KILL_AFTER:
            assert runner.poll() is None, "the runner ended before it could be killed"
            assert time.monotonic() < deadline, "the runner made no progress"
            time.sleep(0.02)
        os.kill(runner.pid, signal.SIGKILL)
    finally:
        runner.kill()
        runner.wait(timeout=30)
    assert runner.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_a_runner_killed_mid_run_leaves_no_step_run_twice_and_no_message_sent_twice(
    shop: Shop,
) -> None:
    journey = shop.journey([send("hello"), {"id": "mark", "type": "tag", "tag": "greeted"}, end()])
    people = [shop.person() for _ in range(CUSTOMERS)]
    for person in people:
        shop.event(person, "signup_confirmed")
    db.session.commit()
    _kill_half_way(db.engine.url.render_as_string(hide_password=False))

    left = _sent()
    assert KILL_AFTER <= left < CUSTOMERS  # killed half-way
    # The dead runner's claims hold until their lease runs out: nobody runs them meanwhile.
    assert run_due(T0 + LEASE - timedelta(seconds=1)) == 0
    assert _sent() == left
    # Then another runner takes over every enrolment the dead one had not finished.
    assert run_due(T0 + LEASE + timedelta(seconds=1)) == CUSTOMERS - left
    assert run_due(T0 + LEASE + timedelta(seconds=2)) == 0

    rows = enrolments(journey)
    assert [(e.status, e.claimed_until) for e in rows] == [("done", None)] * CUSTOMERS
    db.session.rollback()
    per_step = db.session.execute(
        select(
            JourneyStepLog.enrolment_id,
            JourneyStepLog.step,
            JourneyStepLog.outcome,
            func.count(),
        )
        .where(JourneyStepLog.journey_id == journey.id)
        .group_by(JourneyStepLog.enrolment_id, JourneyStepLog.step, JourneyStepLog.outcome)
    ).all()
    outcomes = {(step, outcome) for _enrolment, step, outcome, _count in per_step}
    assert outcomes == {
        ("hello", "entered"),
        ("hello", "sent"),
        ("mark", "tagged"),
        ("end", "exit"),
    }
    assert len(per_step) == CUSTOMERS * 4
    assert {count for *_logged, count in per_step} == {1}
    messages = db.session.execute(
        select(OutboxMessage.dedupe_key, func.count()).group_by(OutboxMessage.dedupe_key)
    ).all()
    expected = {f"journey:{e.id}:hello:1" for e in rows}
    assert {key for key, _count in messages} == expected
    assert {count for _key, count in messages} == {1}
    assert _count(select(func.count()).select_from(JourneyEnrolment)) == CUSTOMERS
