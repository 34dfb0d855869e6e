"""Refunds: what a purchase paid is made void when the purchase is refunded, once."""

from __future__ import annotations

from sqlalchemy import select

from referral.extensions import db
from referral.models import Event, LedgerEntry
from referral.models.base import utcnow
from referral.services import audit, webhook_events

REASON = "refund"


def void_purchase_rewards(purchase: Event, refund: Event, *, actor: str = "") -> list[LedgerEntry]:
    """Make void every ledger line that ``purchase`` paid (its source event), up the whole
    chain, with the reason ``refund``; each is ``reward.voided`` once and the change is
    audited as ``ledger.refund`` naming the refund. Lines already void stay as they are, so
    a second refund of the same purchase (also a concurrent one: the lines are locked and
    read again once the first commits) voids nothing. Runs in the caller's transaction.
    """
    now = utcnow()
    lines = list(
        db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.source_event_id == purchase.id, LedgerEntry.status != "void")
            .order_by(LedgerEntry.id)
            .with_for_update()
        )
    )
    for line in lines:
        line.status, line.decided_at, line.reason = "void", now, REASON
    if lines:
        db.session.flush()
        audit.record(
            "ledger.refund",
            f"event:{purchase.id}",
            workspace_id=purchase.workspace_id,
            actor=actor,
            data={"refund_event_id": refund.id, "voided": [line.id for line in lines]},
        )
        webhook_events.rewards_voided(purchase.workspace_id, lines)
    return lines
