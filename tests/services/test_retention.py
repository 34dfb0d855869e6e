"""Keeping the tables that grow in bounds: months created ahead and dropped past their
retention (PostgreSQL), expired rows deleted in batches, nothing still needed deleted, and a
dry run that changes nothing (services/retention.py, docs/SCALING.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, text

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Click,
    Event,
    OutboxMessage,
    Participation,
    WebhookDelivery,
    WebhookEndpoint,
)
from referral.models.base import utcnow
from referral.services import retention
from referral.services.participants import referral_stats
from tests.factories import Factory


@pytest.fixture
def advocate(factory: Factory) -> Participation:
    campaign = factory.campaign(status="live")
    return factory.participation(campaign, status="confirmed", confirmed_at=utcnow())


def add_click(advocate: Participation, at: datetime) -> None:
    row = {"campaign_id": advocate.campaign_id, "participation_id": advocate.id, "utm": {}}
    db.session.execute(insert(Click), [{**row, "channel": "link", "created_at": at}])
    db.session.commit()


def partitions() -> set[str]:
    rows = db.session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'clicks'::regclass"
        )
    )
    return {name for (name,) in rows}


def partition_of_clicks() -> list[tuple[int, str]]:
    rows = db.session.execute(text("SELECT id, tableoid::regclass::text FROM clicks ORDER BY id"))
    return [(ident, name) for ident, name in rows]


def click_times() -> list[datetime]:
    db.session.expire_all()
    return list(db.session.scalars(select(Click.created_at).order_by(Click.created_at)))


@pytest.fixture
def postgres(app: Flask, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("partitions exist on PostgreSQL only")


def test_a_fresh_schema_has_a_default_partition_so_clicks_can_be_written(
    postgres: None, advocate: Participation
) -> None:
    add_click(advocate, datetime(2040, 6, 1, tzinfo=UTC))
    assert "clicks_default" in partitions()
    assert [name for _id, name in partition_of_clicks()] == ["clicks_default"]


def test_prune_creates_this_month_and_the_next_two_once(postgres: None) -> None:
    now = datetime(2031, 11, 20, tzinfo=UTC)
    done = retention.prune(now)
    assert done.created == ["clicks_2031_11", "clicks_2031_12", "clicks_2032_01"]
    assert {"clicks_2031_11", "clicks_2031_12", "clicks_2032_01"} <= partitions()
    assert retention.prune(now).created == []


def test_a_click_in_a_month_ahead_lands_in_its_partition(
    postgres: None, advocate: Participation
) -> None:
    retention.prune(datetime(2032, 3, 2, tzinfo=UTC))
    add_click(advocate, datetime(2032, 5, 31, 23, 59, 59, tzinfo=UTC))
    add_click(advocate, datetime(2032, 6, 1, tzinfo=UTC))
    assert partition_of_clicks() == [(1, "clicks_2032_05"), (2, "clicks_default")]


def test_clicks_already_in_the_default_partition_move_into_their_new_month(
    postgres: None, advocate: Participation
) -> None:
    add_click(advocate, datetime(2033, 4, 9, tzinfo=UTC))
    add_click(advocate, datetime(2033, 9, 9, tzinfo=UTC))
    retention.prune(datetime(2033, 3, 15, tzinfo=UTC))
    assert partition_of_clicks() == [(1, "clicks_2033_04"), (2, "clicks_default")]
    assert len(click_times()) == 2


def test_prune_drops_the_months_wholly_past_the_retention_only(
    postgres: None, app: Flask, advocate: Participation
) -> None:
    retention.prune(datetime(2029, 1, 15, tzinfo=UTC))
    add_click(advocate, datetime(2029, 1, 20, tzinfo=UTC))
    add_click(advocate, datetime(2029, 2, 20, tzinfo=UTC))
    app.config["RETENTION_CLICKS_DAYS"] = 40
    # 40 days before 20 March is 8 February: January is wholly older, February is not.
    done = retention.prune(datetime(2029, 3, 20, tzinfo=UTC))
    assert "clicks_2029_01" in done.dropped
    assert "clicks_2029_02" not in done.dropped
    assert "clicks_2029_01" not in partitions()
    assert click_times() == [datetime(2029, 2, 20, tzinfo=UTC)]


def test_without_a_retention_no_partition_is_dropped(postgres: None) -> None:
    retention.prune(datetime(2028, 1, 10, tzinfo=UTC))
    done = retention.prune(datetime(2035, 1, 10, tzinfo=UTC))
    assert done.dropped == []
    assert "clicks_2028_01" in partitions()


def test_old_clicks_in_the_default_partition_are_deleted_in_batches(
    postgres: None, app: Flask, advocate: Participation
) -> None:
    for day in (1, 2, 3):
        add_click(advocate, datetime(2041, 1, day, tzinfo=UTC))
    add_click(advocate, datetime(2041, 6, 1, tzinfo=UTC))
    app.config["RETENTION_CLICKS_DAYS"] = 30
    done = retention.prune(datetime(2041, 6, 10, tzinfo=UTC), batch=2)
    assert done.deleted["clicks"] == 3
    assert click_times() == [datetime(2041, 6, 1, tzinfo=UTC)]


def test_clicks_past_the_retention_are_deleted_and_the_others_kept(
    app: Flask, advocate: Participation
) -> None:
    now = utcnow()
    add_click(advocate, now - timedelta(days=400))
    add_click(advocate, now - timedelta(days=2))
    app.config["RETENTION_CLICKS_DAYS"] = 0
    assert "clicks" not in retention.prune(now).deleted
    assert len(click_times()) == 2
    app.config["RETENTION_CLICKS_DAYS"] = 30
    retention.prune(now)
    assert click_times() == [now - timedelta(days=2)]


def mail(workspace_id: int, status: str, age: timedelta, now: datetime) -> OutboxMessage:
    row = OutboxMessage(
        workspace_id=workspace_id,
        kind="confirm",
        to_address="ann@example.com",
        subject=status,
        body_text="…",
        status=status,
        created_at=now - age,
    )
    db.session.add(row)
    return row


def delivery(endpoint: WebhookEndpoint, status: str, age: timedelta, now: datetime) -> None:
    db.session.add(
        WebhookDelivery(
            workspace_id=endpoint.workspace_id,
            endpoint_id=endpoint.id,
            event="reward.granted",
            event_key=f"reward.granted:{status}:{age.days}",
            payload={},
            status=status,
            next_attempt_at=now,
            created_at=now - age,
        )
    )


def test_finished_mail_and_deliveries_go_after_their_days_but_waiting_ones_stay(
    factory: Factory,
) -> None:
    now = utcnow()
    workspace = factory.workspace()
    old, recent = timedelta(days=91), timedelta(days=89)
    for status in ("queued", "sending", "sent", "logged", "failed", "undeliverable"):
        mail(workspace.id, status, old, now)
    mail(workspace.id, "sent", recent, now)
    endpoint = WebhookEndpoint(workspace_id=workspace.id, url="https://x.test/h", secret="s")
    db.session.add(endpoint)
    db.session.flush()
    for status in ("pending", "delivered", "failed"):
        delivery(endpoint, status, old, now)
    delivery(endpoint, "delivered", recent, now)
    db.session.commit()

    done = retention.prune(now)

    assert done.deleted["outbox_messages"] == 3
    assert done.deleted["webhook_deliveries"] == 2
    db.session.expire_all()
    kept_mail = db.session.execute(
        select(OutboxMessage.status, OutboxMessage.created_at < now - recent).order_by(
            OutboxMessage.id
        )
    ).all()
    assert kept_mail == [("queued", True), ("sending", True), ("failed", True), ("sent", False)]
    kept = db.session.execute(
        select(WebhookDelivery.status, WebhookDelivery.created_at < now - recent).order_by(
            WebhookDelivery.id
        )
    ).all()
    assert kept == [("pending", True), ("delivered", False)]


def test_audit_entries_are_kept_forever_unless_a_retention_is_set(
    app: Flask, factory: Factory
) -> None:
    now = utcnow()
    for age in (400, 10):
        db.session.add(AuditEntry(action="login", subject="m:1", created_at=now - timedelta(age)))
    db.session.commit()
    assert "audit_entries" not in retention.prune(now).deleted
    app.config["RETENTION_AUDIT_DAYS"] = 365
    assert retention.prune(now).deleted["audit_entries"] == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_events_and_what_they_paid_are_never_pruned(
    app: Flask, factory: Factory, advocate: Participation
) -> None:
    campaign = db.session.get(Campaign, advocate.campaign_id)
    assert campaign is not None
    long_ago = utcnow() - timedelta(days=3000)
    db.session.add(
        Event(
            workspace_id=campaign.workspace_id,
            customer_id=advocate.customer_id,
            campaign_id=campaign.id,
            kind="purchase",
            external_id="order-1",
            occurred_at=long_ago,
            created_at=long_ago,
        )
    )
    db.session.commit()
    for name in ("CLICKS", "OUTBOX", "WEBHOOKS", "JOURNEY_LOG", "AUDIT"):
        app.config[f"RETENTION_{name}_DAYS"] = 30
    done = retention.prune()
    assert "events" not in done.deleted
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_a_dry_run_reports_the_work_and_changes_nothing(
    app: Flask, factory: Factory, advocate: Participation, is_postgres: bool
) -> None:
    now = datetime(2036, 7, 4, tzinfo=UTC)
    add_click(advocate, now - timedelta(days=100))
    mail(advocate_workspace(advocate), "sent", timedelta(days=100), now)
    db.session.commit()
    app.config["RETENTION_CLICKS_DAYS"] = 30
    before = partitions() if is_postgres else set()

    done = retention.prune(now, dry_run=True)

    assert done.dry_run
    assert done.deleted["clicks"] == 1
    assert done.deleted["outbox_messages"] == 1
    assert len(click_times()) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    if is_postgres:
        assert done.created == ["clicks_2036_07", "clicks_2036_08", "clicks_2036_09"]
        assert partitions() == before


def advocate_workspace(advocate: Participation) -> int:
    campaign = db.session.get(Campaign, advocate.campaign_id)
    assert campaign is not None
    return campaign.workspace_id


def test_clicks_through_a_link_are_recorded_and_counted_on_the_partitioned_table(
    client: FlaskClient, advocate: Participation, is_postgres: bool
) -> None:
    retention.prune()
    for _ in range(2):
        assert client.get(f"/r/{advocate.referral_code}").status_code == 302
    campaign = db.session.get(Campaign, advocate.campaign_id)
    assert campaign is not None
    assert referral_stats(campaign)["clicks"] == 2
    if is_postgres:
        months = [f"clicks_{at:%Y_%m}" for at in click_times()]
        assert [name for _id, name in partition_of_clicks()] == months
