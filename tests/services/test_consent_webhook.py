"""The ``consent.withdrawn`` webhook: queued in the transaction that records a withdrawal,
once per withdrawal, only to the endpoints that subscribed to it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import ConsentRecord, Customer, Workspace
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery
from referral.services import webhooks
from referral.services.consents import withdraw_consent
from tests.factories import Factory


def deliveries() -> list[WebhookDelivery]:
    db.session.rollback()  # what was committed
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.fixture
def anna(factory: Factory) -> Customer:
    workspace = factory.workspace()
    customer = factory.customer(workspace, "anna@example.com")
    db.session.add(
        ConsentRecord(
            customer_id=customer.id,
            purpose="marketing",
            text="Send me news.",
            version="3",
            given_at=datetime(2026, 1, 5, 9, 0).astimezone(),
        )
    )
    db.session.commit()
    return customer


def _workspace(customer: Customer) -> Workspace:
    found = db.session.get(Workspace, customer.workspace_id)
    assert found is not None
    return found


def test_consent_withdrawn_is_a_webhook_event() -> None:
    assert "consent.withdrawn" in WEBHOOK_EVENTS


def test_a_withdrawal_queues_consent_withdrawn_once_to_its_subscribers(
    anna: Customer, factory: Factory
) -> None:
    workspace = _workspace(anna)
    subscribed = webhooks.create_endpoint(
        workspace, "https://shop.example/a", ["consent.withdrawn"]
    )
    webhooks.create_endpoint(workspace, "https://shop.example/b", ["reward.granted"])
    elsewhere = factory.workspace()
    webhooks.create_endpoint(elsewhere, "https://other.example/a", ["consent.withdrawn"])

    assert withdraw_consent(anna, "marketing", "phone") is True
    assert withdraw_consent(anna, "marketing", "phone") is False  # already withdrawn

    queued = deliveries()
    assert [(d.endpoint_id, d.event) for d in queued] == [(subscribed.id, "consent.withdrawn")]
    data = queued[0].payload["data"]["consent"]
    row = db.session.scalars(select(ConsentRecord).where(ConsentRecord.action == "withdrawn")).one()
    assert queued[0].event_key == f"consent.withdrawn:{row.id}"
    assert data == {
        "customer_id": str(anna.id),
        "purpose": "marketing",
        "source": "phone",
        "campaign_id": None,
        "withdrawn_at": row.given_at.isoformat(),
    }
    assert queued[0].payload["event"] == "consent.withdrawn"


def test_a_refused_withdrawal_queues_nothing(anna: Customer) -> None:
    webhooks.create_endpoint(_workspace(anna), "https://shop.example/a", ["consent.withdrawn"])
    with pytest.raises(ValidationFailed):
        withdraw_consent(anna, "marketing", "  ")
    assert deliveries() == []


def test_the_webhook_is_queued_in_the_withdrawals_transaction(
    anna: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a withdrawal that fails after queuing leave a delivery behind? No: the row,
    the audit entry and the delivery are committed together or not at all."""
    webhooks.create_endpoint(_workspace(anna), "https://shop.example/a", ["consent.withdrawn"])

    def failing(*_args: object, **_kw: object) -> None:
        raise RuntimeError("the audit log is away")

    monkeypatch.setattr("referral.services.consents.audit_customer", failing)
    with pytest.raises(RuntimeError):
        withdraw_consent(anna, "marketing", "phone")
    assert deliveries() == []
    assert db.session.scalars(select(ConsentRecord.action)).all() == ["given"]
