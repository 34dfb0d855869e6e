"""Outgoing webhooks: register endpoints and queue events in the causing transaction.

Queuing happens inside the transaction that records what happened (a confirmation, a reward,
a draw), so a delivery exists exactly when its cause was committed. Sending is a separate
step (``services.webhook_delivery``: ``referral send-webhooks``, or the admin's button).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from referral.extensions import db
from referral.models import (
    Customer,
    LedgerEntry,
    Participation,
)
from referral.models.base import utcnow
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from referral.services import memo
from referral.services import webhook_endpoints as endpoints
from referral.services.rows import insert_once

memo.watch(WebhookEndpoint)

# Endpoints are managed in services.webhook_endpoints; named here too, where they were first.
PING = endpoints.PING
create_endpoint = endpoints.create_endpoint
delete_endpoint = endpoints.delete_endpoint
endpoint_page = endpoints.endpoint_page
find_endpoint = endpoints.find_endpoint
list_endpoints = endpoints.list_endpoints
ping_endpoint = endpoints.ping_endpoint
recent_deliveries = endpoints.recent_deliveries
set_active = endpoints.set_active
update_endpoint = endpoints.update_endpoint


def enqueue(workspace_id: int, event: str, key: str, data: dict[str, Any]) -> int:
    """Queue ``event`` for every active endpoint of the workspace that subscribed to it.

    Runs inside the caller's transaction (no commit). The same ``key`` is queued once per
    endpoint (unique key); returns how many deliveries were queued now.
    """
    assert event in WEBHOOK_EVENTS, event
    now = utcnow()
    return sum(
        _queue_once(endpoint, event, key, data, now)
        for endpoint in _subscribers(workspace_id, event)
    )


def subscribed(workspace_id: int, event: str) -> bool:
    """Whether an active endpoint of the workspace subscribed to ``event`` (read once per
    transaction)."""
    return bool(_subscribers(workspace_id, event))


def _subscribers(workspace_id: int, event: str) -> list[WebhookEndpoint]:
    """The workspace's active endpoints that subscribed to ``event``."""
    return [endpoint for endpoint in active_endpoints(workspace_id) if event in endpoint.events]


def active_endpoints(workspace_id: int) -> list[WebhookEndpoint]:
    """The workspace's active endpoints, read once per transaction (and kept while the
    configuration is unchanged: ``memo.shared``)."""
    return memo.shared(
        ("webhook_endpoints", workspace_id),
        lambda: list(db.session.scalars(_ACTIVE_ENDPOINTS, {"workspace_id": workspace_id})),
        rows=WebhookEndpoint,
    )


_ACTIVE_ENDPOINTS = (
    select(WebhookEndpoint)
    .where(
        WebhookEndpoint.workspace_id == bindparam("workspace_id"),
        WebhookEndpoint.active.is_(True),
    )
    .order_by(WebhookEndpoint.id)
)


def _queue_once(
    endpoint: WebhookEndpoint, event: str, key: str, data: dict[str, Any], now: datetime
) -> bool:
    """Queue one delivery of ``event`` to ``endpoint``; False when ``key`` is queued to it
    already (also by a concurrent transaction)."""
    payload = {"event": event, "created_at": now.isoformat(), "data": data}
    values = {
        "workspace_id": endpoint.workspace_id,
        "endpoint_id": endpoint.id,
        "event": event,
        "event_key": key[:80],
        "payload": payload,
        "next_attempt_at": now,
    }
    # queued already (also by a concurrent transaction): the unique key keeps the first
    return insert_once(WebhookDelivery, values, ("endpoint_id", "event_key")) is not None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def participant_confirmed(workspace_id: int, participation: Participation) -> None:
    """Queue ``participant.confirmed`` (inside the confirming transaction)."""
    event = "participant.confirmed"
    if not _subscribers(workspace_id, event):
        return
    customer = db.session.get(Customer, participation.customer_id)
    data = {
        "participant": {
            "id": str(participation.id),
            "campaign_id": str(participation.campaign_id),
            "email": customer.email_display if customer else None,
            "referral_code": participation.referral_code,
            "referrer_id": str(participation.referrer_id) if participation.referrer_id else None,
            "depth": participation.depth,
            "status": participation.status,
            "confirmed_at": _iso(participation.confirmed_at),
        }
    }
    enqueue(workspace_id, event, f"{event}:{participation.id}", data)


def reward_data(entry: LedgerEntry) -> dict[str, Any]:
    """A ledger line as webhooks describe it."""
    return {
        "id": str(entry.id),
        "participant_id": str(entry.participation_id),
        "source_event_id": str(entry.source_event_id),
        "rule_id": str(entry.rule_id) if entry.rule_id else None,
        "level": entry.level,
        "reward": entry.reward,
        "amount": entry.amount,
        "status": entry.status,
        "created_at": _iso(entry.created_at),
    }


def reward_granted(workspace_id: int, entry: LedgerEntry) -> None:
    """Queue ``reward.granted`` for a new ledger line (inside the paying transaction), and
    ``reward.held`` when the line waits (a hold period or a review) before it is approved."""
    data = {"reward": reward_data(entry)}
    enqueue(workspace_id, "reward.granted", f"reward.granted:{entry.id}", data)
    if entry.status == "pending":
        held = {
            "reward": {
                **reward_data(entry),
                "reason": entry.reason or "hold_period",
                "approve_after": _iso(entry.approve_after),
            }
        }
        enqueue(workspace_id, "reward.held", f"reward.held:{entry.id}", held)
