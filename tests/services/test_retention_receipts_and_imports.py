"""What ``referral prune`` also keeps in bounds: payment providers' receipts past
``RETENTION_INBOUND_DAYS`` (the events they recorded stay), and the import progress entries
in the worker's storage, which go when an import is over (services/retention.py,
services/import_jobs.py, docs/SCALING.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import Event, InboundReceipt, ParticipantImport, Workspace
from referral.models.base import utcnow
from referral.services import import_jobs, imports, retention
from referral.services.inbound import Outcome, receive
from referral.services.inbound_hooks import create_hook
from tests.factories import Factory


def receipt(workspace: Workspace, delivery_id: str, age: timedelta, now: datetime) -> None:
    db.session.add(
        InboundReceipt(
            workspace_id=workspace.id,
            provider="stripe",
            delivery_id=delivery_id,
            topic="charge.refunded",
            status="ignored",
            reason="unknown_order",
            created_at=now - age,
        )
    )


def receipts() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(InboundReceipt.delivery_id)))


def test_receipts_older_than_the_retention_go_and_younger_ones_stay(
    app: Flask, factory: Factory
) -> None:
    now = utcnow()
    workspace = factory.workspace()
    receipt(workspace, "evt_old", timedelta(days=91), now)
    receipt(workspace, "evt_recent", timedelta(days=89), now)
    db.session.commit()
    assert app.config["RETENTION_INBOUND_DAYS"] == 90
    assert retention.prune(now, dry_run=True).deleted["inbound_receipts"] == 1
    assert receipts() == ["evt_old", "evt_recent"]
    assert retention.prune(now).deleted["inbound_receipts"] == 1
    assert receipts() == ["evt_recent"]
    app.config["RETENTION_INBOUND_DAYS"] = 0  # forever
    receipt(workspace, "evt_ancient", timedelta(days=3000), now)
    db.session.commit()
    assert "inbound_receipts" not in retention.prune(now).deleted
    assert receipts() == ["evt_ancient", "evt_recent"]


def test_a_delivery_sent_again_within_the_window_is_still_a_duplicate_and_its_event_stays(
    app: Flask, factory: Factory
) -> None:
    from referral.domain.inbound import Notice

    campaign = factory.campaign(status="live")
    buyer = factory.participation(campaign, status="confirmed", confirmed_at=utcnow())
    hook = create_hook(campaign.workspace_id, "stripe", "whsec_0123456789abcdef")
    notice = Notice(
        delivery_id="evt_1",
        topic="checkout.session.completed",
        kind="purchase",
        order="stripe:pi_1",
        referral_code=buyer.referral_code,
        amount=100,
        currency="EUR",
    )
    assert receive(hook, notice).status == "recorded"
    # 31 days on (the least the setting may say): the receipt is still there
    later = utcnow() + timedelta(days=31)
    app.config["RETENTION_INBOUND_DAYS"] = 31
    assert retention.prune(later - timedelta(minutes=1)).deleted["inbound_receipts"] == 0
    assert receive(hook, notice) == Outcome("duplicate")
    # past it the receipt goes; the purchase it recorded stays, so it is still paid once
    assert retention.prune(later + timedelta(minutes=1)).deleted["inbound_receipts"] == 1
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1
    again = receive(hook, notice)
    assert (again.status, again.reason) == ("recorded", "order_known")
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


# --- import progress in the worker's storage ----------------------------------------------


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The worker's storage, as a dict."""
    seen: dict[str, int] = {}
    store = (seen.__setitem__, seen.get, lambda key: seen.pop(key, None))
    monkeypatch.setattr(import_jobs, "_store", [store])
    return seen


def queued_import(factory: Factory, app: Flask, rows: int = 3) -> ParticipantImport:
    campaign = factory.campaign(status="live")
    data = "email\n" + "".join(f"p{n}@example.com\n" for n in range(rows))
    job = import_jobs.upload_file(campaign, "people.csv", data.encode())
    db.session.commit()
    app.config["IMPORT_INLINE_ROWS"] = 1
    import_jobs.start_import(
        campaign, job, {"email": 0}, "Customers who agreed at checkout", confirmed=True
    )
    return job


def test_a_finished_import_leaves_no_progress_behind(
    app: Flask, factory: Factory, storage: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[int] = []
    put = import_jobs._store[0][0]

    def telling(key: str, done: int) -> None:
        told.append(done)
        put(key, done)

    monkeypatch.setattr(import_jobs, "_store", [(telling, *import_jobs._store[0][1:])])
    monkeypatch.setattr(imports, "CHUNK", 1)
    job = queued_import(factory, app)
    assert import_jobs.run_queued() == 1
    assert told == [1, 2, 3]  # told after each chunk while it ran
    assert storage == {}  # and let go once it was done
    db.session.refresh(job)
    assert job.status == "done" and import_jobs.progress_of(job) == 3


def test_a_failed_import_leaves_no_progress_behind(
    app: Flask, factory: Factory, storage: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 1)
    real = imports._enter_all
    calls = [0]

    def enter_then_fail(batch: Any, entered: Any) -> None:
        real(batch, entered)
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(imports, "_enter_all", enter_then_fail)
    job = queued_import(factory, app)
    assert import_jobs.run_queued() == 1
    db.session.refresh(job)
    assert job.status == "failed" and storage == {}


def test_prune_clears_what_a_dead_worker_left_and_keeps_a_running_imports(
    app: Flask, factory: Factory, storage: dict[str, int]
) -> None:
    over = queued_import(factory, app)
    running = queued_import(factory, app)
    over.status, running.status = "done", "running"
    db.session.commit()
    storage[f"referral.import.{over.id}"] = 2
    storage[f"referral.import.{running.id}"] = 1
    assert retention.prune(dry_run=True).forgotten == 1
    assert len(storage) == 2
    assert retention.prune().forgotten == 1
    assert storage == {f"referral.import.{running.id}": 1}
    assert import_jobs.progress_of(running) == 1


def test_the_worker_keeps_progress_in_its_storage_and_deletes_it(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from referral import tasks

    assert import_jobs._store[0][2] == tasks.huey.delete  # what the app set up
    queue = tasks.make_huey(None, str(tmp_path / "q.sqlite"))
    monkeypatch.setattr(import_jobs, "_store", [import_jobs._store[0]])
    import_jobs.keep_progress_in(queue.put, lambda key: queue.get(key, peek=True), queue.delete)
    put, get, forget = import_jobs._store[0]
    put("referral.import.7", 5)
    assert (get("referral.import.7"), get("referral.import.7")) == (5, 5)  # read, kept
    forget("referral.import.7")
    assert get("referral.import.7") is None
    assert queue.storage.result_store_size() == 0
