"""What marketers read about people: the participants of a campaign with their referral
numbers and leaderboard, the workspace's customers and one customer's page. Read-only;
every query is scoped to one workspace or to a campaign the caller loaded through
``scoping.get_owned``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from referral.extensions import db
from referral.models import (
    Campaign,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Participation,
    RewardRule,
)
from referral.services import advocates, counters

PER_PAGE = 50
TIMELINE_MAX = 1000
SEARCH_MAX = 254


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


# --- the participants of a campaign ----------------------------------------------------------


def _confirmed_referrals() -> Any:
    """Per participation of the outer query: how many it referred who confirmed."""
    child = aliased(Participation)
    return (
        select(func.count(child.id))
        .where(child.referrer_id == Participation.id, child.status == "confirmed")
        .correlate(Participation)
        .scalar_subquery()
    )


def _points() -> Any:
    """Per participation of the outer query: approved plus pending points (void lines
    count for nothing)."""
    return (
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(
            LedgerEntry.participation_id == Participation.id,
            LedgerEntry.reward == "points",
            LedgerEntry.status != "void",
        )
        .correlate(Participation)
        .scalar_subquery()
    )


def _matching_participants(query: Select[Any], term: str) -> Select[Any]:
    """``query`` narrowed to part of the address (as typed or normalised, any case) or a
    whole referral code; unchanged for an empty term."""
    if not term:
        return query
    lower = term.lower()
    return query.where(
        or_(
            func.lower(Customer.email_display).contains(lower, autoescape=True),
            Customer.email.contains(lower, autoescape=True),
            Participation.referral_code == term,
        )
    )


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
    query = (
        select(
            Participation,
            Customer,
            referrer_customer.email_display,
            _confirmed_referrals(),
            _points(),
        )
        .join(Customer, Customer.id == Participation.customer_id)
        .outerjoin(referrer, referrer.id == Participation.referrer_id)
        .outerjoin(referrer_customer, referrer_customer.id == referrer.customer_id)
        .where(Participation.campaign_id == campaign.id)
        .order_by(Participation.id.desc())
    )
    if status:
        query = query.where(Participation.status == status)
    query = _matching_participants(query, clean_search(search))
    rows, total, page = _page_of(query, page, per_page)
    found = [ParticipantRow(p, c, ref, int(n or 0), int(pts or 0)) for p, c, ref, n, pts in rows]
    return Page(found, total, page, per_page)


def referral_stats(campaign: Campaign) -> dict[str, int]:
    """Clicks on referral links, sign-ups that came through one, and how many of those
    confirmed (rejected sign-ups are not counted), from the campaign's counters."""
    kept = counters.campaign_counts(campaign.id)
    referred = counters.by_status(kept, "referred")
    return {
        "clicks": kept.get(counters.CLICKS, 0),
        "joins": sum(referred.values()) - referred["rejected"],
        "confirmed": referred["confirmed"],
    }


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


# --- the customers of a workspace ------------------------------------------------------------


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


def _consent_history(customer: Customer) -> list[Any]:
    """(Consent row, campaign name) oldest first."""
    return list(
        db.session.execute(
            select(ConsentRecord, Campaign.name)
            .outerjoin(Campaign, Campaign.id == ConsentRecord.campaign_id)
            .where(ConsentRecord.customer_id == customer.id)
            .order_by(ConsentRecord.given_at, ConsentRecord.id)
        )
    )


def _participations_with_referrer(customer: Customer) -> list[Any]:
    """(Participation, campaign, referrer's customer id, referrer's address) by id."""
    referrer = aliased(Participation)
    referrer_customer = aliased(Customer)
    return list(
        db.session.execute(
            select(Participation, Campaign, referrer_customer.id, referrer_customer.email_display)
            .join(Campaign, Campaign.id == Participation.campaign_id)
            .outerjoin(referrer, referrer.id == Participation.referrer_id)
            .outerjoin(referrer_customer, referrer_customer.id == referrer.customer_id)
            .where(Participation.customer_id == customer.id)
            .order_by(Participation.id)
        )
    )


def _latest_events(customer: Customer) -> list[Any]:
    """(Event, campaign name), newest first: ``TIMELINE_MAX`` and one more, so the caller
    knows whether there were more."""
    return list(
        db.session.execute(
            select(Event, Campaign.name)
            .outerjoin(Campaign, Campaign.id == Event.campaign_id)
            .where(Event.customer_id == customer.id, Event.workspace_id == customer.workspace_id)
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .limit(TIMELINE_MAX + 1)
        )
    )


def _rewards_received(customer: Customer) -> list[Any]:
    """(Ledger line, campaign name, the rule's currency) oldest first."""
    return list(
        db.session.execute(
            select(LedgerEntry, Campaign.name, RewardRule.currency)
            .join(Participation, Participation.id == LedgerEntry.participation_id)
            .join(Campaign, Campaign.id == Participation.campaign_id)
            .outerjoin(RewardRule, RewardRule.id == LedgerEntry.rule_id)
            .where(Participation.customer_id == customer.id)
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
    )


def customer_view(customer: Customer) -> dict[str, Any]:
    """Everything the customer page shows, in four queries.

    The timeline holds the customer's events oldest first (ties in time by id, the order
    they were recorded); past ``TIMELINE_MAX`` only the latest are shown and
    ``timeline_truncated`` says so. The consent history is oldest first;
    ``marketing_consent`` is its latest marketing row (given or withdrawn), or None.
    """
    consents = _consent_history(customer)
    participations = _participations_with_referrer(customer)
    events = _latest_events(customer)
    ledger = _rewards_received(customer)
    marketing = [c for c, _name in consents if c.purpose == "marketing"]
    return {
        "customer": customer,
        "consents": consents,
        "marketing_consent": marketing[-1] if marketing else None,
        "participations": participations,
        "timeline": list(reversed(events[:TIMELINE_MAX])),
        "timeline_truncated": len(events) > TIMELINE_MAX,
        "ledger": ledger,
    }
