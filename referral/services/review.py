"""Review decisions: flagged sign-ups and held rewards, approved or rejected by a marketer.
What the queue shows is read in ``services.review_queue``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry, Campaign, Event, LedgerEntry, Marketer, Participation
from referral.models.base import utcnow
from referral.services import counters, webhook_events

DECISIONS = ("approve", "reject")


def decide(
    workspace_id: int,
    participation_ids: list[int],
    decision: str,
    marketer: Marketer | None,
    reason: str = "",
) -> int:
    """Approve or reject flagged participations in bulk; every decision is logged.

    Approve: the participation counts (confirmed if its address was confirmed, otherwise
    pending) and its held rewards are approved (or wait out the hold period). Reject: it is
    excluded, and every reward it triggered or received is void with the reason.
    Ids of other workspaces, and rows that are not flagged, are ignored. Returns how many
    were decided.

    :raise ValidationFailed: unknown decision.
    """
    if decision not in DECISIONS:
        raise ValidationFailed.on("decision", N_("Choose approve or reject."))
    rows = _still_flagged(workspace_id, participation_ids)
    now = utcnow()
    ledger_reason = reason or (
        "approved_by_review" if decision == "approve" else "rejected_by_review"
    )
    for row in rows:
        _apply(row, decision, ledger_reason, now)
        _log_decision(workspace_id, marketer, decision, row, reason)
    counters.moved([(row, "flagged", row.status) for row in rows])
    webhook_events.review_decided(workspace_id, rows, decision, ledger_reason, now)
    db.session.commit()
    return len(rows)


def _still_flagged(workspace_id: int, participation_ids: list[int]) -> list[Participation]:
    """Those of ``participation_ids`` in the workspace that are still flagged, by id (the
    order their decisions are applied and logged in, and rows locked in). Locked: a
    concurrent decision on the same row waits, then finds it decided and leaves it."""
    return list(
        db.session.scalars(
            select(Participation)
            .join(Campaign, Campaign.id == Participation.campaign_id)
            .where(
                Campaign.workspace_id == workspace_id,
                Participation.id.in_(participation_ids),
                Participation.status == "flagged",
            )
            .order_by(Participation.id)
            .with_for_update(of=Participation)
        ).all()
    )


def _log_decision(
    workspace_id: int, marketer: Marketer | None, decision: str, row: Participation, reason: str
) -> None:
    """The audit entry of one decision, with the note and the flags it was about."""
    db.session.add(
        AuditEntry(
            workspace_id=workspace_id,
            marketer_id=marketer.id if marketer else None,
            action=f"review.{decision}",
            subject=f"participation:{row.id}",
            data={"reason": reason, "flags": row.flag_reasons},
        )
    )


def _apply(row: Participation, decision: str, reason: str, now: datetime) -> None:
    touched = select(LedgerEntry).where(
        (LedgerEntry.participation_id == row.id)
        | LedgerEntry.source_event_id.in_(select(Event.id).where(Event.participation_id == row.id))
    )
    entries = db.session.scalars(touched.where(LedgerEntry.status == "pending")).all()
    if decision == "approve":
        row.status = "confirmed" if row.confirmed_at else "pending"
        for entry in entries:
            if entry.approve_after is None or entry.approve_after <= now:
                entry.status, entry.decided_at, entry.reason = "approved", now, reason
    else:
        row.status = "rejected"
        for entry in db.session.scalars(touched.where(LedgerEntry.status != "void")).all():
            entry.status, entry.decided_at, entry.reason = "void", now, reason


def void_entry(
    entry: LedgerEntry, reason: str, marketer: Marketer | None, workspace_id: int
) -> LedgerEntry:
    """Void one ledger line (refund, fraud) with the reason; logged."""
    if not reason.strip():
        raise ValidationFailed.on("reason", N_("Say why the reward is void."))
    if entry.status != "void":
        entry.status, entry.decided_at, entry.reason = "void", utcnow(), reason.strip()[:200]
        db.session.add(
            AuditEntry(
                workspace_id=workspace_id,
                marketer_id=marketer.id if marketer else None,
                action="ledger.void",
                subject=f"ledger:{entry.id}",
                data={"reason": reason},
            )
        )
        webhook_events.reward_voided(workspace_id, entry)
        db.session.commit()
    return entry
