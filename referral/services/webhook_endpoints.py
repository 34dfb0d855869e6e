"""Webhook endpoints: registered, changed, paused, deleted and pinged by owners (the admin's
Webhooks page, ``/api/v1/webhooks``), each change audited in its transaction.

Every change also tells the workspace's campaigns which events are subscribed
(``Campaign.webhook_events``), so the sign-up path reads no endpoint when nobody listens.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, event, select, update
from sqlalchemy.orm import Mapper

from referral.domain import webhooks as domain
from referral.domain.errors import N_, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Marketer, Workspace
from referral.models.base import utcnow
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from referral.services import audit, cursors
from referral.services.scoping import MAX_ID
from referral.services.tx import atomic

# A delivery that only checks the address (``POST /api/v1/webhooks/{id}/ping``); no
# endpoint subscribes to it.
PING = "ping"


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


def _audit_args(marketer: Marketer | None, actor: str, ip_hash: str | None) -> dict[str, Any]:
    return {"marketer_id": marketer.id if marketer else None, "actor": actor, "ip_hash": ip_hash}


@atomic
def create_endpoint(
    workspace: Workspace | int,
    url: object,
    events: list[str] | None,
    marketer: Marketer | None = None,
    *,
    active: bool = True,
    actor: str = "",
    ip_hash: str | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (shown to the owner once). Audited as
    ``webhook.create``.

    :raise ValidationFailed: naming ``url`` or ``events``.
    """
    workspace_id = workspace if isinstance(workspace, int) else workspace.id
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
        workspace_id=workspace_id,
        url=clean_url,
        secret="whsec_" + secrets.token_urlsafe(24),
        events=clean_events,
        active=active,
    )
    db.session.add(endpoint)
    db.session.flush()
    _audit(endpoint, "webhook.create", {"url": clean_url}, **_audit_args(marketer, actor, ip_hash))
    _hook_campaigns(workspace_id)
    return endpoint


@atomic
def set_active(endpoint: WebhookEndpoint, active: bool, marketer: Marketer | None = None) -> None:
    endpoint.active = active
    action = "webhook.enable" if active else "webhook.disable"
    _audit(endpoint, action, {}, **_audit_args(marketer, "", None))
    _hook_campaigns(endpoint.workspace_id)


@atomic
def delete_endpoint(
    endpoint: WebhookEndpoint,
    marketer: Marketer | None = None,
    *,
    actor: str = "",
    ip_hash: str | None = None,
) -> None:
    """Remove an endpoint and its deliveries (sent or not). Audited as ``webhook.delete``."""
    who = _audit_args(marketer, actor, ip_hash)
    _audit(endpoint, "webhook.delete", {"url": endpoint.url}, **who)
    db.session.delete(endpoint)
    _hook_campaigns(endpoint.workspace_id)


@atomic
def update_endpoint(
    endpoint: WebhookEndpoint,
    marketer: Marketer | None = None,
    *,
    url: object = None,
    events: list[str] | None = None,
    active: bool | None = None,
    actor: str = "",
    ip_hash: str | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's address, events or whether it is active (what is given); its
    secret stays. Audited as ``webhook.update`` with the fields changed; nothing changes
    when a field is refused.

    :raise ValidationFailed: naming ``url`` or ``events``.
    """
    changed: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    try:
        if url is not None:
            changed["url"] = domain.check_url(url)
    except ValidationFailed as error:
        errors.update(error.messages)
    try:
        if events is not None:
            changed["events"] = _check_events(events)
    except ValidationFailed as error:
        errors.update(error.messages)
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    if active is not None:
        changed["active"] = active
    for name, value in changed.items():
        setattr(endpoint, name, value)
    _audit(endpoint, "webhook.update", changed, **_audit_args(marketer, actor, ip_hash))
    _hook_campaigns(endpoint.workspace_id)
    return endpoint


def find_endpoint(workspace_id: int, endpoint_id: int | None) -> WebhookEndpoint:
    """The endpoint ``endpoint_id`` of the workspace.

    :raise NotFound: for an id of another workspace exactly as for one that does not exist.
    """
    found = None
    if endpoint_id is not None and 0 < endpoint_id <= MAX_ID:
        found = db.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
            )
        )
    if found is None:
        raise NotFound(N_("No such webhook."))
    return found


def endpoint_page(
    workspace_id: int, limit: Any, cursor: str | None
) -> cursors.CursorPage[WebhookEndpoint]:
    """A page of the workspace's endpoints in id order.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
    return cursors.page(query, WebhookEndpoint.id, limit, cursor)


@atomic
def ping_endpoint(
    endpoint: WebhookEndpoint, *, actor: str = "", ip_hash: str | None = None
) -> WebhookDelivery:
    """Queue a ``ping`` to this endpoint alone (active or paused, whatever it subscribed
    to), so its owner can check that it receives and verifies signed deliveries; sent like
    any delivery. Audited as ``webhook.ping``."""
    now = utcnow()
    payload = {
        "event": PING,
        "created_at": now.isoformat(),
        "data": {"webhook_id": str(endpoint.id), "url": endpoint.url},
    }
    delivery = WebhookDelivery(
        workspace_id=endpoint.workspace_id,
        endpoint_id=endpoint.id,
        event=PING,
        event_key=f"{PING}:{secrets.token_urlsafe(16)}",
        payload=payload,
        next_attempt_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    _audit(endpoint, "webhook.ping", {"delivery_id": delivery.id}, actor=actor, ip_hash=ip_hash)
    return delivery


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
    endpoint: WebhookEndpoint,
    action: str,
    data: dict[str, Any],
    *,
    marketer_id: int | None = None,
    actor: str = "",
    ip_hash: str | None = None,
) -> None:
    audit.record(
        action,
        f"webhook:{endpoint.id}",
        workspace_id=endpoint.workspace_id,
        marketer_id=marketer_id,
        actor=actor,
        ip_hash=ip_hash,
        data=data,
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
