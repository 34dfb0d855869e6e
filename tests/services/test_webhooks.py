"""Outgoing webhooks: queued with their cause, signed, delivered to a real HTTP server,
retried with back-off, never sent twice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from referral.domain import webhooks as domain
from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import Workspace
from referral.models.base import utcnow
from referral.models.webhooks import WebhookDelivery
from referral.services import webhook_delivery as sender
from referral.services import webhooks as service
from referral.services.confirmation import confirm_participation
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import Factory
from tests.webhook_receiver import Receiver


@pytest.fixture
def live(factory: Factory):
    return factory.campaign(status="live", reward_depth=1)


def _workspace(campaign: Any) -> Workspace:
    row = db.session.get(Workspace, campaign.workspace_id)
    assert row is not None
    return row


def join(campaign: Any, email: str, code: str | None = None, **kw: Any) -> Any:
    return join_campaign(
        campaign, JoinRequest(email=email, referral_code=code, **kw), Visitor()
    ).participation


def deliveries(**where: Any) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    for name, value in where.items():
        query = query.where(getattr(WebhookDelivery, name) == value)
    return list(db.session.scalars(query))


def test_creating_an_endpoint_names_each_bad_field_and_stores_nothing(live) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.create_endpoint(_workspace(live), "nope", ["no.such.event"])
    assert set(caught.value.messages) == {"url", "events"}
    assert service.list_endpoints(live.workspace_id) == []


def test_a_confirmation_and_its_reward_are_delivered_signed_to_a_real_server(
    live, receiver: Receiver
) -> None:
    endpoint = service.create_endpoint(
        _workspace(live), receiver.url, ["participant.confirmed", "reward.granted"]
    )
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True)
    friend = join(live, "b@example.com", advocate.referral_code)
    receiver.received.clear()
    for row in deliveries():
        db.session.delete(row)
    db.session.commit()

    confirm_participation(friend)
    queued = deliveries()
    assert [d.event for d in queued] == ["participant.confirmed", "reward.granted"]

    counts = sender.deliver_due()
    assert counts == {"delivered": 2, "retrying": 0, "failed": 0}
    assert len(receiver.received) == 2
    for got in receiver.received:
        header = got["headers"][domain.SIGNATURE_HEADER]
        now = int(utcnow().timestamp())
        assert domain.verify_signature(endpoint.secret, header, got["body"], now)
    confirmed, reward = (json.loads(got["body"]) for got in receiver.received)
    assert confirmed["event"] == "participant.confirmed"
    assert confirmed["data"]["participant"]["id"] == str(friend.id)
    assert confirmed["data"]["participant"]["email"] == "b@example.com"
    assert reward["data"]["reward"]["participant_id"] == str(advocate.id)
    assert reward["data"]["reward"]["amount"] == 100
    assert {d.status for d in deliveries()} == {"delivered"}
    assert sender.deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(receiver.received) == 2


def test_only_subscribed_active_endpoints_of_the_workspace_get_events(
    factory: Factory, live, receiver: Receiver
) -> None:
    service.create_endpoint(_workspace(live), receiver.url, ["reward.granted"])
    paused = service.create_endpoint(_workspace(live), receiver.url, ["participant.confirmed"])
    service.set_active(paused, False)
    other = factory.campaign(status="live")
    service.create_endpoint(_workspace(other), receiver.url, ["participant.confirmed"])
    join(live, "a@example.com", confirmed=True)
    assert deliveries() == []  # no reward rules, and the confirmed-subscriber is paused


def test_a_failing_receiver_is_retried_with_back_off_then_given_up(
    live, receiver: Receiver
) -> None:
    service.create_endpoint(_workspace(live), receiver.url, ["participant.confirmed"])
    join(live, "a@example.com", confirmed=True)
    receiver.status = 503
    now = utcnow()
    assert sender.deliver_due(now=now) == {"delivered": 0, "retrying": 1, "failed": 0}
    (delivery,) = deliveries()
    assert delivery.attempts == 1 and delivery.last_status_code == 503
    assert delivery.next_attempt_at >= now + timedelta(seconds=domain.BACKOFF_SECONDS[0])
    assert sender.deliver_due(now=now) == {"delivered": 0, "retrying": 0, "failed": 0}
    later = now
    for _ in range(domain.MAX_ATTEMPTS - 1):
        later = later + timedelta(days=1)
        sender.deliver_due(now=later)
    db.session.refresh(delivery)
    assert delivery.status == "failed" and delivery.attempts == domain.MAX_ATTEMPTS
    assert len(receiver.received) == domain.MAX_ATTEMPTS

    receiver.status = 204
    sender.retry_now(delivery)
    assert sender.deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}


def test_an_unreachable_receiver_is_a_retry_not_an_error(live) -> None:
    service.create_endpoint(_workspace(live), "http://127.0.0.1:9/closed", ["reward.granted"])
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 5})
    advocate = join(live, "advocate@example.com", confirmed=True)  # came on their own: no reward
    join(live, "a@example.com", advocate.referral_code, confirmed=True)
    assert sender.deliver_due() == {"delivered": 0, "retrying": 1, "failed": 0}
    (delivery,) = deliveries()
    assert delivery.last_status_code is None and delivery.last_error


def test_the_same_occurrence_is_queued_once(live, receiver: Receiver) -> None:
    service.create_endpoint(_workspace(live), receiver.url, ["reward.granted"])
    add_rule(live, {"event": "purchase", "level": 0, "reward": "points", "amount": 5})
    buyer = join(live, "a@example.com", confirmed=True)
    report_event(live, buyer, "purchase", amount=100, external_id="order-1")
    report_event(live, buyer, "purchase", amount=100, external_id="order-1")
    assert len(deliveries(event="reward.granted")) == 1


def test_two_workers_never_send_the_same_delivery_twice(app, live, receiver: Receiver) -> None:
    service.create_endpoint(_workspace(live), receiver.url, ["participant.confirmed"])
    for n in range(5):
        join(live, f"p{n}@example.com", confirmed=True)
    errors = race(app, 4, lambda _: sender.deliver_due())
    assert errors == []
    db.session.rollback()
    assert len(receiver.received) == 5
    delivered = db.session.scalar(select(func.count()).where(WebhookDelivery.status == "delivered"))
    assert delivered == 5


def test_the_send_webhooks_command_delivers_and_reports(runner, live, receiver: Receiver) -> None:
    service.create_endpoint(_workspace(live), receiver.url, ["participant.confirmed"])
    join(live, "a@example.com", confirmed=True)
    result = runner.invoke(args=["send-webhooks"])
    assert result.exit_code == 0, result.output
    assert "1 delivered, 0 to retry later, 0 failed." in result.output
    assert len(receiver.received) == 1
