"""What an advocate sees: their link, clicks, friends, rewards, badges, rank, next step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select

from referral.domain import gamification
from referral.domain.emails import mask_email
from referral.extensions import db
from referral.models import Campaign, Customer, Event, LedgerEntry, Participation, RewardRule
from referral.services import counters
from referral.services.participant_links import participant_of, participant_token
from referral.services.rewards import balances, points
from referral.services.rows import first_row

SALT = "advocate-page"


def advocate_token(participation: Participation) -> str:
    """The signed part of an advocate's personal page address (it names them, so it is
    signed: nobody can reach another person's page by changing a number)."""
    return participant_token(participation, SALT)


def from_token(token: str) -> Participation:
    """:raise NotFound: for a forged, altered or stale token."""
    return participant_of(token, SALT)


def referral_url(participation: Participation) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/r/{participation.referral_code}"


@dataclass
class Friend:
    name: str
    joined_at: Any
    status: str
    counted: bool
    reason: str
    flagged: bool = False


def _friend(row: Participation, customer: Customer) -> Friend:
    """A referral and why it did or did not count (yet).

    A flagged friend who has not confirmed their address yet is first of all waiting for
    that confirmation (and also under review); once confirmed, only the review is left.
    """
    reasons = {
        "confirmed": "counted",
        "pending": "waiting_for_confirmation",
        "flagged": "under_review" if row.confirmed_at else "waiting_for_confirmation",
        "rejected": "not_eligible",
    }
    first = (customer.name or "").split(" ")[0] or mask_email(customer.email)
    counted = row.status == "confirmed"
    flagged = row.status == "flagged"
    return Friend(first, row.created_at, row.status, counted, reasons[row.status], flagged)


@dataclass(frozen=True)
class RewardWhy:
    """Why a ledger line was paid, from its level, rule and source event.

    ``kind`` is ``own`` (the advocate's own action, ``event`` its kind), ``friend`` (a
    friend's action one level down, ``name`` that friend), ``milestone`` (``milestone``
    confirmed friends reached), ``deeper`` (a friend of a friend, ``level`` levels down) or
    ``gift`` (a journey's grant, paid without a rule).
    """

    kind: str
    event: str = ""
    name: str = ""
    level: int = 0
    milestone: int = 0


def _why(level: int, rule_id: int | None, milestone: int | None, kind: str, name: str) -> RewardWhy:
    if rule_id is None:
        return RewardWhy("gift")
    if milestone:
        return RewardWhy("milestone", level=level, milestone=milestone)
    if level == 0:
        return RewardWhy("own", event=kind)
    if level == 1:
        return RewardWhy("friend", event=kind, name=name, level=1)
    return RewardWhy("deeper", event=kind, level=level)


def reward_reasons(entries: list[LedgerEntry]) -> dict[int, RewardWhy]:
    """Why each of ``entries`` was paid, by entry id, in one query. A friend is named as on
    public lists (``public_name``), never by their address."""
    if not entries:
        return {}
    actor = Participation.__table__.alias("actor")
    rows = db.session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.level,
            LedgerEntry.rule_id,
            RewardRule.milestone,
            Event.kind,
            Customer.name,
            Customer.email,
        )
        .join(Event, Event.id == LedgerEntry.source_event_id)
        .outerjoin(RewardRule, RewardRule.id == LedgerEntry.rule_id)
        .outerjoin(actor, actor.c.id == Event.participation_id)
        .outerjoin(Customer, Customer.id == actor.c.customer_id)
        .where(LedgerEntry.id.in_([entry.id for entry in entries]))
        .order_by(LedgerEntry.id)
    ).all()
    return {
        ident: _why(level, rule_id, milestone, kind, public_name(name, email or ""))
        for ident, level, rule_id, milestone, kind, name, email in rows
    }


# Built once: the inviter's name on a friend's landing page, read on the driver.
_INVITER = (
    select(Customer.name, Customer.email, Participation.status)
    .join(Participation, Participation.customer_id == Customer.id)
    .where(Participation.id == bindparam("participation_id"))
)


def inviter_name(participation_id: int) -> str | None:
    """How the owner of a referral link is named to the friend who opened it: their
    public name (``public_name``); None when they gave no name (their address is never
    shown, not even masked) or when they can no longer refer anyone (rejected)."""
    row = first_row(_INVITER, {"participation_id": participation_id})
    if row is None:
        return None
    name, email, status = row
    if not (name or "").strip() or status == "rejected":
        return None
    return public_name(name, email)


def public_name(name: str | None, email: str) -> str:
    """How a person appears on public lists: "Anna B." (first name, last initial), just
    "Anna" for a one-word name, or a masked address when there is no name."""
    parts = (name or "").split()
    if not parts:
        return mask_email(email)
    return f"{parts[0]} {parts[-1][:1]}." if len(parts) > 1 else parts[0]


def leaderboard(campaign: Campaign, limit: int = 10) -> list[dict[str, Any]]:
    """Top advocates by confirmed referrals, with masked names.

    Tie-break (stated on the page too): more confirmed referrals first; on a tie, whoever
    reached that number first — the earlier confirmation of their latest counted referral;
    then the earlier participant. One grouped query; no per-advocate queries.
    """
    child = Participation.__table__.alias("child")
    confirmed = func.count(child.c.id).label("confirmed")
    reached = func.max(child.c.confirmed_at).label("reached")
    rows = db.session.execute(
        select(Participation.id, Customer.name, Customer.email, confirmed, reached)
        .join(child, child.c.referrer_id == Participation.id)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(
            Participation.campaign_id == campaign.id,
            child.c.status == "confirmed",
            Participation.status != "rejected",
        )
        .group_by(Participation.id, Customer.name, Customer.email)
        .order_by(confirmed.desc(), reached.asc(), Participation.id.asc())
        .limit(limit)
    ).all()
    board = []
    for rank, (pid, name, email, count, _reached) in enumerate(rows, start=1):
        shown = public_name(name, email)
        board.append({"rank": rank, "participation_id": pid, "name": shown, "confirmed": count})
    return board


def rank_of(participation: Participation, confirmed: int) -> int | None:
    """1-based rank under the leaderboard's order (None without a confirmed referral)."""
    if confirmed == 0:
        return None
    child = Participation.__table__.alias("child")
    per = (
        select(
            child.c.referrer_id.label("rid"),
            func.count().label("n"),
            func.max(child.c.confirmed_at).label("at"),
        )
        .where(
            child.c.campaign_id == participation.campaign_id,
            child.c.status == "confirmed",
            child.c.referrer_id.is_not(None),  # people who joined on their own are nobody's
        )
        .group_by(child.c.referrer_id)
        .subquery()
    )
    mine = db.session.execute(select(per.c.at).where(per.c.rid == participation.id)).scalar()
    ahead = db.session.scalar(
        select(func.count())
        .select_from(per)
        .where(
            (per.c.n > confirmed)
            | ((per.c.n == confirmed) & (per.c.at < mine))
            | ((per.c.n == confirmed) & (per.c.at == mine) & (per.c.rid < participation.id))
        )
    )
    return int(ahead or 0) + 1


def _friends(participation: Participation) -> list[Friend]:
    """The latest 200 people the advocate referred, newest first."""
    rows = db.session.execute(
        select(Participation, Customer)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(Participation.referrer_id == participation.id)
        .order_by(Participation.id.desc())
        .limit(200)
    ).all()
    return [_friend(p, c) for p, c in rows]


def _milestones(campaign_id: int) -> list[int]:
    """The confirmed-referral counts the campaign's active milestone rules pay at."""
    return list(
        db.session.scalars(
            select(RewardRule.milestone).where(
                RewardRule.campaign_id == campaign_id,
                RewardRule.milestone.is_not(None),
                RewardRule.active.is_(True),
            )
        )
    )


def _latest_rewards(participation: Participation) -> list[LedgerEntry]:
    """The advocate's latest 200 ledger lines, newest first."""
    return list(
        db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.participation_id == participation.id)
            .order_by(LedgerEntry.id.desc())
            .limit(200)
        )
    )


def advocate_view(participation: Participation) -> dict[str, Any]:
    """Everything the advocate page shows, in a handful of queries: clicks, friends joined
    (whatever became of them) and confirmed from the advocate's counters
    (``services.counters``), the latest 200 friends themselves from their rows."""
    campaign = db.session.get(Campaign, participation.campaign_id)
    customer = db.session.get(Customer, participation.customer_id)
    kept = counters.participation_counts(participation.campaign_id, [participation.id])
    mine = kept[participation.id]
    referrals = counters.by_status(mine, "referrals")
    confirmed = referrals["confirmed"]
    friends = _friends(participation)
    milestones = _milestones(participation.campaign_id)
    entries = _latest_rewards(participation)
    return {
        "participation": participation,
        "campaign": campaign,
        "customer": customer,
        "referral_url": referral_url(participation),
        "clicks": mine.get(counters.CLICKS, 0),
        "joined": sum(referrals.values()),
        "confirmed": confirmed,
        "friends": friends,
        "rewards": entries,
        "reward_reasons": reward_reasons(entries),
        "balances": balances(participation.id),
        "points": points(participation.id),
        "progress": gamification.progress(confirmed, milestones),
        "rank": rank_of(participation, confirmed),
        "leaderboard": leaderboard(campaign) if campaign else [],
    }
