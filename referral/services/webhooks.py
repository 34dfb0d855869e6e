"""Outgoing webhooks: register endpoints and queue events in the causing transaction.

Queuing happens inside the transaction that records what happened (a confirmation, a reward,
a draw), so a delivery exists exactly when its cause was committed. Sending is a separate
step (``services.webhook_delivery``: ``referral send-webhooks``, or the admin's button).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy.orm import Mapper

from referral.domain import webhooks as domain
from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Customer,
    LedgerEntry,
    Marketer,
    Participation,
    Workspace,
)
from referral.models.base import utcnow
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from referral.services import memo
from referral.services.rows import insert_once

memo.watch(WebhookEndpoint)


def _check_events(events: list[str] | None) -> list[str]:
    chosen = [e for e in dict.fromkeys(events or []) if e]
    unknown = [e for e in chosen if e not in WEBHOOK_EVENTS]
    if not chosen or unknown:
        raise ValidationFailed.on(
            "events",
            N_("Choose one or more of: %(choices)s."),
            {"choices": ", ".join(WEBHOOK_EVENTS)},
        )
    return chosen


def create_endpoint(
    workspace: Workspace, url: object, events: list[str] | None, marketer: Marketer | None = None
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (shown to the owner once).

    :raise ValidationFailed: naming ``url`` or ``events``.
    """
    errors: dict[str, list[Any]] = {}
    clean_url: str | None = None
    clean_events: list[str] | None = None
    try:
        clean_url = domain.check_url(url)
    except ValidationFailed as error:
        errors.update(error.messages)
    try:
        clean_events = _check_events(events)
    except ValidationFailed as error:
        errors.update(error.messages)
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    endpoint = WebhookEndpoint(
        workspace_id=workspace.id,
        url=clean_url,
        secret="whsec_" + secrets.token_urlsafe(24),
        events=clean_events,
    )
    db.session.add(endpoint)
    db.session.flush()
    _audit(workspace.id, marketer, "webhook.create", endpoint, {"url": clean_url})
    _hook_campaigns(workspace.id)
    db.session.commit()
    return endpoint


def set_active(endpoint: WebhookEndpoint, active: bool, marketer: Marketer | None = None) -> None:
    endpoint.active = active
    action = "webhook.enable" if active else "webhook.disable"
    _audit(endpoint.workspace_id, marketer, action, endpoint, {})
    _hook_campaigns(endpoint.workspace_id)
    db.session.commit()


def delete_endpoint(endpoint: WebhookEndpoint, marketer: Marketer | None = None) -> None:
    _audit(endpoint.workspace_id, marketer, "webhook.delete", endpoint, {"url": endpoint.url})
    db.session.delete(endpoint)
    _hook_campaigns(endpoint.workspace_id)
    db.session.commit()


def update_endpoint(
    endpoint: WebhookEndpoint,
    marketer: Marketer | None = None,
    *,
    url: object = None,
    events: list[str] | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's address, events or whether it is active (what is given); its
    secret stays. Audited with the fields changed.

    :raise ValidationFailed: naming ``url`` or ``events``.
    """
    changed: dict[str, Any] = {}
    if url is not None:
        endpoint.url = changed["url"] = domain.check_url(url)
    if events is not None:
        endpoint.events = changed["events"] = _check_events(events)
    if active is not None:
        endpoint.active = changed["active"] = active
    _audit(endpoint.workspace_id, marketer, "webhook.update", endpoint, changed)
    _hook_campaigns(endpoint.workspace_id)
    db.session.commit()
    return endpoint


def hooked_events(connection: Connection, workspace_id: int) -> list[str]:
    """The events the workspace's active endpoints subscribe to, in catalogue order."""
    rows = connection.execute(
        select(WebhookEndpoint.events).where(
            WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.active.is_(True)
        )
    ).scalars()
    chosen = {name for events in rows for name in events}
    return [name for name in WEBHOOK_EVENTS if name in chosen]


def _hook_campaigns(workspace_id: int) -> None:
    """Tell the workspace's campaigns which events are subscribed (``webhook_events``)."""
    db.session.flush()
    events = hooked_events(db.session.connection(), workspace_id)
    db.session.execute(
        update(Campaign)
        .where(Campaign.workspace_id == workspace_id)
        .values(webhook_events=events)
        .execution_options(synchronize_session="fetch")
    )


@event.listens_for(Campaign, "before_insert")
def _hook_new_campaign(_mapper: Mapper[Campaign], connection: Connection, target: Campaign) -> None:
    """A new campaign (also a copy) starts with the workspace's subscribed events."""
    target.webhook_events = hooked_events(connection, target.workspace_id)


def _audit(
    workspace_id: int,
    marketer: Marketer | None,
    action: str,
    endpoint: WebhookEndpoint,
    data: dict[str, Any],
) -> None:
    db.session.add(
        AuditEntry(
            workspace_id=workspace_id,
            marketer_id=marketer.id if marketer else None,
            action=action,
            subject=f"webhook:{endpoint.id}",
            data=data,
        )
    )


def list_endpoints(workspace_id: int) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.workspace_id == workspace_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def recent_deliveries(workspace_id: int, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.workspace_id == workspace_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


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
    """The workspace's active endpoints, read once per transaction."""
    return memo.remember(
        ("webhook_endpoints", workspace_id),
        lambda: list(db.session.scalars(_ACTIVE_ENDPOINTS, {"workspace_id": workspace_id})),
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
