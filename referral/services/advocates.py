"""What an advocate sees: their link, clicks, friends, rewards, badges, rank, next step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from referral.domain import gamification
from referral.domain.emails import mask_email
from referral.extensions import db
from referral.models import Campaign, Customer, LedgerEntry, Participation, RewardRule
from referral.services import counters
from referral.services.participant_links import participant_of, participant_token
from referral.services.rewards import balances, points

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


def _friend(row: Participation, customer: Customer) -> Friend:
    """A referral and why it did or did not count (yet)."""
    reasons = {
        "confirmed": "counted",
        "pending": "waiting_for_confirmation",
        "flagged": "under_review",
        "rejected": "not_eligible",
    }
    first = (customer.name or "").split(" ")[0] or mask_email(customer.email)
    return Friend(first, row.created_at, row.status, row.status == "confirmed", reasons[row.status])


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
        "balances": balances(participation.id),
        "points": points(participation.id),
        "progress": gamification.progress(confirmed, milestones),
        "rank": rank_of(participation, confirmed),
        "leaderboard": leaderboard(campaign) if campaign else [],
    }
