"""What marketers read about people: participants of a campaign, customer timelines, and
the review queue with its decisions. Read-only; every query is scoped to one workspace or
to a campaign the caller loaded through ``scoping.get_owned``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Click,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Marketer,
    Participation,
    RewardRule,
)
from referral.services import advocates, review

PER_PAGE = 50
TIMELINE_MAX = 1000
SEARCH_MAX = 254
REVIEW_ACTIONS = ("review.approve", "review.reject")


@dataclass
class Page:
    """One page of a longer list; ``page`` counts from 1."""

    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class ParticipantRow:
    participation: Participation
    customer: Customer
    referrer_email: str | None
    confirmed_referrals: int
    points: int


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


def clean_search(term: str) -> str:
    """A search term as typed, without control characters (PostgreSQL refuses NUL in
    text) and cut to ``SEARCH_MAX`` characters."""
    return "".join(c for c in term if c.isprintable()).strip()[:SEARCH_MAX]


def _page_of(query: Select[Any], page: int, per_page: int) -> tuple[list[Any], int, int]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = int(total or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total, page


def list_participants(
    campaign: Campaign,
    status: str | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """The campaign's participants, newest first, one query for the rows.

    Each row carries the referrer's address, the number of *confirmed* referrals and the
    points (approved plus pending; void lines count for nothing), computed in the same
    statement. ``search`` matches part of the e-mail address (as typed or normalised, any
    case) or a whole referral code. A page past the end shows the last page.
    """
    referrer = aliased(Participation)
    referrer_customer = aliased(Customer)
    child = aliased(Participation)
    confirmed = (
        select(func.count(child.id))
        .where(child.referrer_id == Participation.id, child.status == "confirmed")
        .correlate(Participation)
        .scalar_subquery()
    )
    points = (
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(
            LedgerEntry.participation_id == Participation.id,
            LedgerEntry.reward == "points",
            LedgerEntry.status != "void",
        )
        .correlate(Participation)
        .scalar_subquery()
    )
    query = (
        select(Participation, Customer, referrer_customer.email_display, confirmed, points)
        .join(Customer, Customer.id == Participation.customer_id)
        .outerjoin(referrer, referrer.id == Participation.referrer_id)
        .outerjoin(referrer_customer, referrer_customer.id == referrer.customer_id)
        .where(Participation.campaign_id == campaign.id)
        .order_by(Participation.id.desc())
    )
    if status:
        query = query.where(Participation.status == status)
    term = clean_search(search)
    if term:
        lower = term.lower()
        query = query.where(
            or_(
                func.lower(Customer.email_display).contains(lower, autoescape=True),
                Customer.email.contains(lower, autoescape=True),
                Participation.referral_code == term,
            )
        )
    rows, total, page = _page_of(query, page, per_page)
    found = [ParticipantRow(p, c, ref, int(n or 0), int(pts or 0)) for p, c, ref, n, pts in rows]
    return Page(found, total, page, per_page)


def referral_stats(campaign: Campaign) -> dict[str, int]:
    """Clicks on referral links, sign-ups that came through one, and how many of those
    confirmed (rejected sign-ups are not counted)."""
    clicks = db.session.scalar(
        select(func.count()).select_from(Click).where(Click.campaign_id == campaign.id)
    )
    joins, confirmed = db.session.execute(
        select(
            func.count(Participation.id),
            func.coalesce(func.sum(case((Participation.status == "confirmed", 1), else_=0)), 0),
        ).where(
            Participation.campaign_id == campaign.id,
            Participation.referrer_id.is_not(None),
            Participation.status != "rejected",
        )
    ).one()
    return {"clicks": int(clicks or 0), "joins": int(joins or 0), "confirmed": int(confirmed)}


def leaderboard(campaign: Campaign, limit: int = 10) -> list[dict[str, Any]]:
    """``advocates.leaderboard`` (same order and tie-break) with each advocate's customer id
    and address, for the back office (two queries in all)."""
    board = advocates.leaderboard(campaign, limit)
    ids = [row["participation_id"] for row in board]
    people = {
        pid: (cid, email)
        for pid, cid, email in db.session.execute(
            select(Participation.id, Customer.id, Customer.email_display)
            .join(Customer, Customer.id == Participation.customer_id)
            .where(Participation.id.in_(ids))
        )
    }
    return [
        {
            **row,
            "customer_id": people[row["participation_id"]][0],
            "email": people[row["participation_id"]][1],
        }
        for row in board
        if row["participation_id"] in people
    ]


def find_customers(
    workspace_id: int, search: str = "", page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """The workspace's customers, newest first, with how many campaigns each joined.

    ``search`` matches part of the address or the name, in any case.
    """
    campaigns = (
        select(func.count(Participation.id))
        .where(Participation.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    query = (
        select(Customer, campaigns)
        .where(Customer.workspace_id == workspace_id)
        .order_by(Customer.id.desc())
    )
    term = clean_search(search).lower()
    if term:
        query = query.where(
            or_(
                func.lower(Customer.email_display).contains(term, autoescape=True),
                Customer.email.contains(term, autoescape=True),
                func.lower(Customer.name).contains(term, autoescape=True),
            )
        )
    rows, total, page = _page_of(query, page, per_page)
    return Page([(c, int(n or 0)) for c, n in rows], total, page, per_page)


def customer_view(customer: Customer) -> dict[str, Any]:
    """Everything the customer page shows, in four queries.

    The timeline holds the customer's events oldest first (ties in time by id, the order
    they were recorded); past ``TIMELINE_MAX`` only the latest are shown and
    ``timeline_truncated`` says so. The consent history is oldest first;
    ``marketing_consent`` is its latest marketing row (given or withdrawn), or None.
    """
    consents = db.session.execute(
        select(ConsentRecord, Campaign.name)
        .outerjoin(Campaign, Campaign.id == ConsentRecord.campaign_id)
        .where(ConsentRecord.customer_id == customer.id)
        .order_by(ConsentRecord.given_at, ConsentRecord.id)
    ).all()
    referrer = aliased(Participation)
    referrer_customer = aliased(Customer)
    participations = db.session.execute(
        select(Participation, Campaign, referrer_customer.id, referrer_customer.email_display)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .outerjoin(referrer, referrer.id == Participation.referrer_id)
        .outerjoin(referrer_customer, referrer_customer.id == referrer.customer_id)
        .where(Participation.customer_id == customer.id)
        .order_by(Participation.id)
    ).all()
    events = db.session.execute(
        select(Event, Campaign.name)
        .outerjoin(Campaign, Campaign.id == Event.campaign_id)
        .where(Event.customer_id == customer.id, Event.workspace_id == customer.workspace_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(TIMELINE_MAX + 1)
    ).all()
    ledger = db.session.execute(
        select(LedgerEntry, Campaign.name, RewardRule.currency)
        .join(Participation, Participation.id == LedgerEntry.participation_id)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .outerjoin(RewardRule, RewardRule.id == LedgerEntry.rule_id)
        .where(Participation.customer_id == customer.id)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    ).all()
    marketing = [c for c, _name in consents if c.purpose == "marketing"]
    return {
        "customer": customer,
        "consents": list(consents),
        "marketing_consent": marketing[-1] if marketing else None,
        "participations": list(participations),
        "timeline": list(reversed(events[:TIMELINE_MAX])),
        "timeline_truncated": len(events) > TIMELINE_MAX,
        "ledger": list(ledger),
    }


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


def review_queue(workspace_id: int) -> list[tuple[Participation, Campaign, Person]]:
    """``review.flagged`` with each participant's address and referrer (two queries)."""
    rows = review.flagged(workspace_id)
    people = _people(workspace_id, [p.id for p, _c in rows])
    return [(p, c, people[p.id]) for p, c in rows if p.id in people]


def _subject_id(subject: str) -> int | None:
    kind, _, ident = subject.partition(":")
    return int(ident) if kind == "participation" and ident.isdigit() else None


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
    campaigns = dict(
        db.session.execute(
            select(Participation.id, Campaign.name)
            .join(Campaign, Campaign.id == Participation.campaign_id)
            .where(Campaign.workspace_id == workspace_id, Participation.id.in_(ids))
        ).all()
    )
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
