"""What the review page reads: the flagged sign-ups waiting for a decision, with who they
are and who referred them, and the latest decisions with who made them. Read-only and
scoped to one workspace; the decisions themselves are made in ``services.review``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import aliased

from referral.extensions import db
from referral.models import AuditEntry, Campaign, Customer, Marketer, Participation

REVIEW_ACTIONS = ("review.approve", "review.reject")


@dataclass
class Person:
    """Who a participation belongs to, and who referred them (for the review queue)."""

    customer_id: int
    email: str
    referrer_customer_id: int | None = None
    referrer_email: str | None = None


@dataclass
class Decision:
    entry: AuditEntry
    marketer_email: str | None
    decision: str
    person: Person | None
    campaign_name: str | None
    flags: list[str] = field(default_factory=list)


def _people(workspace_id: int, participation_ids: list[int]) -> dict[int, Person]:
    """Customer and referrer of each participation, in one query, scoped to the workspace."""
    if not participation_ids:
        return {}
    referrer = aliased(Participation)
    referrer_customer = aliased(Customer)
    rows = db.session.execute(
        select(
            Participation.id,
            Customer.id,
            Customer.email_display,
            referrer_customer.id,
            referrer_customer.email_display,
        )
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .outerjoin(referrer, referrer.id == Participation.referrer_id)
        .outerjoin(referrer_customer, referrer_customer.id == referrer.customer_id)
        .where(Campaign.workspace_id == workspace_id, Participation.id.in_(participation_ids))
    )
    return {pid: Person(cid, email, rid, remail) for pid, cid, email, rid, remail in rows}


def flagged(workspace_id: int, limit: int = 200) -> list[tuple[Participation, Campaign]]:
    """Flagged participations of the workspace, oldest first."""
    rows = db.session.execute(
        select(Participation, Campaign)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .where(Campaign.workspace_id == workspace_id, Participation.status == "flagged")
        .order_by(Participation.id)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def review_queue(workspace_id: int) -> list[tuple[Participation, Campaign, Person]]:
    """:func:`flagged` with each participant's address and referrer (two queries)."""
    rows = flagged(workspace_id)
    people = _people(workspace_id, [p.id for p, _c in rows])
    return [(p, c, people[p.id]) for p, c in rows if p.id in people]


def _subject_id(subject: str) -> int | None:
    kind, _, ident = subject.partition(":")
    return int(ident) if kind == "participation" and ident.isdigit() else None


def _campaign_names(workspace_id: int, participation_ids: list[int]) -> dict[int, str]:
    """The campaign name of each participation of the workspace."""
    return dict(
        db.session.execute(
            select(Participation.id, Campaign.name)
            .join(Campaign, Campaign.id == Participation.campaign_id)
            .where(Campaign.workspace_id == workspace_id, Participation.id.in_(participation_ids))
        ).all()
    )


def recent_decisions(workspace_id: int, limit: int = 20) -> list[Decision]:
    """The latest review decisions of the workspace, newest first, with who decided and
    about whom (three queries)."""
    entries = db.session.execute(
        select(AuditEntry, Marketer.email)
        .outerjoin(Marketer, Marketer.id == AuditEntry.marketer_id)
        .where(AuditEntry.workspace_id == workspace_id, AuditEntry.action.in_(REVIEW_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
    ids = [i for entry, _m in entries if (i := _subject_id(entry.subject)) is not None]
    people = _people(workspace_id, ids)
    campaigns = _campaign_names(workspace_id, ids)
    out = []
    for entry, email in entries:
        pid = _subject_id(entry.subject)
        out.append(
            Decision(
                entry=entry,
                marketer_email=email,
                decision=entry.action.partition(".")[2],
                person=people.get(pid) if pid else None,
                campaign_name=campaigns.get(pid) if pid else None,
                flags=list((entry.data or {}).get("flags") or []),
            )
        )
    return out
