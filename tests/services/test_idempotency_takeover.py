"""A claim on an Idempotency-Key whose worker died (kill -9 mid-request) is taken over by
the client's retry at once, not after minutes of 409s; a live worker's claim is waited for."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from referral.domain.errors import Conflict
from referral.extensions import db
from referral.models import IdempotencyRecord
from referral.models.base import utcnow
from referral.services import idempotency
from tests.factories import Factory


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait(timeout=30)
    return process.pid


def _left_claim(workspace_id: int, owner: str, age: timedelta = timedelta(0)) -> None:
    db.session.add(
        IdempotencyRecord(
            workspace_id=workspace_id,
            key="retry-me",
            request_hash="h" * 64,
            status_code=idempotency.IN_PROGRESS,
            owner=owner,
            created_at=utcnow() - age,
        )
    )
    db.session.commit()


def test_a_new_claim_names_this_process(factory: Factory) -> None:
    workspace = factory.workspace()
    claim_id = idempotency.claim(workspace.id, "k1", "h" * 64)
    assert isinstance(claim_id, int)
    record = db.session.get(IdempotencyRecord, claim_id)
    assert record is not None and record.owner == idempotency.this_process()


def test_the_claim_of_a_dead_worker_on_this_machine_is_taken_over_at_once(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)  # would answer 409 if it waited
    workspace = factory.workspace()
    host = idempotency.this_process().rpartition(":")[0]
    _left_claim(workspace.id, f"{host}:{_dead_pid()}")
    claimed = idempotency.claim(workspace.id, "retry-me", "h" * 64)
    assert isinstance(claimed, int)
    rows = list(db.session.scalars(select(IdempotencyRecord)))
    assert [(r.id, r.owner) for r in rows] == [(claimed, idempotency.this_process())]


def test_the_claim_of_a_live_worker_is_waited_for_then_409(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    workspace = factory.workspace()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # noqa: S603
    try:
        host = idempotency.this_process().rpartition(":")[0]
        _left_claim(workspace.id, f"{host}:{sleeper.pid}")
        with pytest.raises(Conflict):
            idempotency.claim(workspace.id, "retry-me", "h" * 64)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_claim_from_another_machine_is_taken_over_once_stale(factory: Factory) -> None:
    workspace = factory.workspace()
    _left_claim(workspace.id, "other-host:1234", age=idempotency.STALE_AFTER + timedelta(1))
    assert isinstance(idempotency.claim(workspace.id, "retry-me", "h" * 64), int)
