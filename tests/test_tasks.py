"""The huey worker: where it keeps its queue, and that its job is the reminder job."""

from __future__ import annotations

from typing import Any

from huey import RedisHuey, SqliteHuey

import referral
from referral import tasks
from referral.extensions import db
from referral.services import trials
from referral.services.referrals import JoinRequest, Visitor, join_campaign
from tests.factories import Factory


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
