"""The demo's outbox: confirmation mails of people who have not confirmed yet, in each state
a message can be in, so that the outbox page shows what sent, failed, undeliverable and
waiting mail look like.

The mails are the real ones (their links confirm); the states are set as the worker would
have left them. A failed one waits an hour before its next try; an undeliverable one was
given up on. Idempotent: the rows carry the key ``demo:outbox:<n>``, and a workspace that
has them is left alone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from referral import emails
from referral.extensions import db
from referral.models import Campaign, Customer, OutboxMessage, Participation
from referral.models.base import utcnow
from referral.services.confirmation import send_link

KEY = "demo:outbox:"
ERROR_LATER = "421 4.7.0 Try again later, closing connection."
ERROR_GONE = "550 5.1.1 The email account that you tried to reach does not exist."
# status, attempts, last error, hours ago it was queued
STATES: tuple[tuple[str, int, str, int], ...] = (
    ("logged", 1, "", 30),
    ("sent", 1, "", 20),
    ("sent", 2, ERROR_LATER, 12),
    ("failed", 3, ERROR_LATER, 3),
    ("undeliverable", 12, ERROR_GONE, 28),
    ("queued", 0, "", 0),
)


def _pending(workspace_id: int, count: int) -> list[tuple[Participation, Customer]]:
    rows = db.session.execute(
        select(Participation, Customer)
        .join(Customer, Customer.id == Participation.customer_id)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .where(Campaign.workspace_id == workspace_id, Participation.status == "pending")
        .order_by(Participation.id.desc())
        .limit(count)
    )
    return [(p, c) for p, c in rows]


def _settle(message: OutboxMessage, n: int, state: tuple[str, int, str, int]) -> None:
    status, attempts, error, hours = state
    now = utcnow()
    values: dict[str, Any] = {
        "dedupe_key": f"{KEY}{n}",
        "status": status,
        "attempts": attempts,
        "error": error,
        "created_at": now - timedelta(hours=hours),
        "sent_at": now - timedelta(hours=hours) + timedelta(minutes=attempts)
        if status in ("sent", "logged")
        else None,
        "next_attempt_at": now + timedelta(hours=1) if status == "failed" else None,
    }
    for name, value in values.items():
        setattr(message, name, value)


def seed_demo_outbox(workspace_id: int) -> int:
    """Queue the demo's confirmation mails in their states; returns how many (0 when they
    are there, or nobody is pending)."""
    exists = db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.workspace_id == workspace_id, OutboxMessage.dedupe_key.startswith(KEY)
        )
    )
    if exists is not None:
        return 0
    people = _pending(workspace_id, len(STATES))
    for n, ((participation, customer), state) in enumerate(zip(people, STATES, strict=False)):
        send_link(participation, customer, emails.confirmation)
        db.session.flush()
        message = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.customer_id == customer.id, OutboxMessage.dedupe_key.is_(None))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        assert message is not None
        _settle(message, n, state)
    db.session.commit()
    return len(people)
