"""The huey worker: where it keeps its queue, and that its job is the reminder job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from huey import RedisHuey, SqliteHuey

import referral
from referral import tasks
from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.base import utcnow
from referral.services import trials
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory
from tests.web.conftest import join_through_form


def test_without_redis_the_queue_is_a_sqlite_file(tmp_path: Any) -> None:
    queue = tasks.make_huey(None, str(tmp_path / "q.sqlite"))
    assert isinstance(queue, SqliteHuey)


def test_with_redis_url_the_queue_is_redis() -> None:
    assert isinstance(tasks.make_huey("redis://127.0.0.1:6379/0"), RedisHuey)


def test_the_periodic_job_queues_due_reminders_once(app, factory: Factory, monkeypatch) -> None:
    periodic = [type(task) for task in tasks.huey._registry.periodic_tasks]
    assert tasks.send_reminders_task.task_class in periodic
    campaign = factory.campaign(kind="trial", status="live")
    trials.update_trial_settings(campaign, 2, 1)
    person = join_campaign(
        campaign, JoinRequest(email="p@example.com", confirmed=True), Visitor()
    ).participation
    trial = trials.trial_of(person)
    trial.reminder_at = trial.started_at
    db.session.commit()
    monkeypatch.setattr(referral, "create_app", lambda: app)
    assert tasks.send_reminders_task.call_local() == (1, 1)
    assert tasks.send_reminders_task.call_local() == (0, 0)


def test_a_sign_up_only_wakes_the_mail_worker_which_then_delivers(
    app, client, factory: Factory, monkeypatch
) -> None:
    woken: list[bool] = []
    monkeypatch.setattr(tasks, "deliver_outbox_task", lambda: woken.append(True))
    campaign = factory.campaign(status="live", slug="wake")
    db.session.commit()
    assert join_through_form(client, campaign, "w@example.com").status_code == 303
    assert woken == [True]
    db.session.rollback()
    assert [m.status for m in db.session.query(OutboxMessage)] == ["queued"]
    monkeypatch.undo()  # the real task again, on the test's app
    monkeypatch.setattr(tasks, "_app", app)
    assert tasks.deliver_outbox_task.call_local() == 1
    db.session.rollback()
    assert [m.status for m in db.session.query(OutboxMessage)] == ["logged"]


def test_a_queue_that_is_away_does_not_fail_the_request(monkeypatch) -> None:
    def away() -> None:
        raise OSError("queue unreachable")

    monkeypatch.setattr(tasks, "deliver_outbox_task", away)
    tasks.wake_mailer()  # logs and returns: the periodic job delivers later
    periodic = [type(task) for task in tasks.huey._registry.periodic_tasks]
    assert tasks.deliver_outbox_periodically.task_class in periodic


def test_the_nightly_job_prunes_what_is_past_its_retention(
    app, factory: Factory, monkeypatch
) -> None:
    periodic = [type(task) for task in tasks.huey._registry.periodic_tasks]
    assert tasks.prune_daily.task_class in periodic
    workspace = factory.workspace()
    db.session.add(
        OutboxMessage(
            workspace_id=workspace.id,
            kind="confirm",
            to_address="ann@example.com",
            subject="Hello",
            body_text="Hello",
            status="logged",
            created_at=utcnow() - timedelta(days=91),
        )
    )
    db.session.commit()
    monkeypatch.setattr(tasks, "_app", app)
    assert tasks.prune_daily.call_local()[2] == 1
    db.session.rollback()
    assert db.session.query(OutboxMessage).count() == 0
