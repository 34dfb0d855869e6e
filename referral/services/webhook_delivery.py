"""Delivering queued webhook events: claim, sign, POST, record, retry with back-off.

Each due delivery is claimed with a conditional UPDATE, so two workers never send it twice;
no transaction is held while the receiver answers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from referral.domain import webhooks as domain
from referral.extensions import db
from referral.models.base import utcnow
from referral.models.webhooks import WebhookDelivery, WebhookEndpoint
from referral.services.rows import affected_rows
from referral.services.tx import retry_on_contention

TIMEOUT_SECONDS = 10
LEASE_SECONDS = 60  # a claimed delivery is left alone this long by other workers
USER_AGENT = "referral-webhooks/1"


@dataclass(frozen=True)
class Response:
    status: int
    error: str = ""


Poster = Callable[[str, bytes, dict[str, str]], Response]


def http_post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST with a timeout; any answer outside 2xx, or no answer, is a failure."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return Response(answer.status)
    except urllib.error.HTTPError as error:
        return Response(error.code, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Response(0, str(reason)[:500] or error.__class__.__name__)


@retry_on_contention
def _claim(delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for this worker: one conditional UPDATE, so only one wins."""
    result = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
    )
    db.session.commit()
    return affected_rows(result) == 1


def body_of(delivery: WebhookDelivery) -> bytes:
    payload = {"id": str(delivery.id), **delivery.payload}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _signed(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> tuple[bytes, dict[str, str]]:
    body = body_of(delivery)
    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Referral-Event": delivery.event,
        "Referral-Delivery": str(delivery.id),
        domain.SIGNATURE_HEADER: domain.signature(endpoint.secret, timestamp, body),
    }
    return body, headers


def _record(delivery: WebhookDelivery, answer: Response, now: datetime) -> None:
    delivery.attempts += 1
    delivery.last_status_code = answer.status or None
    if 200 <= answer.status < 300:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.last_error = ""
        return
    delivery.last_error = answer.error or f"HTTP {answer.status}"
    delay = domain.retry_delay(delivery.attempts)
    if delay is None:
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)


@retry_on_contention
def _save_outcome(delivery_id: int, answer: Response, now: datetime) -> str:
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:  # its endpoint was deleted meanwhile
        db.session.rollback()
        return "failed"
    _record(delivery, answer, now)
    db.session.commit()
    return delivery.status if delivery.status != "pending" else "retrying"


def deliver_due(
    now: datetime | None = None,
    post: Poster | None = None,
    workspace_id: int | None = None,
    limit: int = 100,
) -> dict[str, int]:
    """Send every due delivery (of one workspace, or all); counts by outcome."""
    post = post or http_post
    now = now or utcnow()
    query = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if workspace_id is not None:
        query = query.where(WebhookDelivery.workspace_id == workspace_id)
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    due = db.session.scalars(query).all()
    db.session.commit()  # end the read, so each claim starts as a write (SQLite)
    for delivery_id in due:
        if not _claim(delivery_id, now):
            continue
        delivery = db.session.get(WebhookDelivery, delivery_id)
        endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None:
            db.session.rollback()
            continue
        body, headers = _signed(delivery, endpoint)
        url = endpoint.url
        db.session.rollback()  # hold no transaction while waiting for the receiver
        answer = post(url, body, headers)
        counts[_save_outcome(delivery_id, answer, now)] += 1
    return counts


def retry_now(delivery: WebhookDelivery) -> None:
    """Make a pending or failed delivery due again (the admin's *Retry*)."""
    if delivery.status == "delivered":
        return
    delivery.status = "pending"  # a failed one gets one more try, then fails again
    delivery.next_attempt_at = utcnow()
    db.session.commit()
