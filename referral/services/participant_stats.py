"""Participants with their numbers, as integrators read them: confirmed referrals and points
(approved and pending), in a prize draw the entry, and the ledger of rewards with balances.

Read-only; every lookup is scoped to one workspace, or to a campaign or participation the
caller loaded through its workspace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, LedgerEntry, Participation
from referral.services import counters
from referral.services.cursors import CursorPage, page
from referral.services.lottery import EntryInfo, entry_of
from referral.services.rewards import balances


@dataclass(frozen=True)
class Standing:
    """A participation and its numbers. Every other attribute (``id``, ``status``,
    ``customer``, …) is the participation's own. ``entry`` is set for one participant of a
    prize draw read on their own (its ``entry_id`` once the entries are frozen, and the
    ``entries`` held), None otherwise."""

    participation: Participation
    referrals_confirmed: int = 0
    points: int = 0
    entry: EntryInfo | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.participation, name)


@dataclass(frozen=True)
class Rewards:
    """A page of one participant's ledger, with balances over all of it: per reward kind the
    ``approved`` and ``pending`` totals, and ``points``, the two added up."""

    participant_id: int
    items: list[LedgerEntry]
    next_cursor: str | None
    balances: dict[str, dict[str, int]]
    points: int


def participant_in(ident: int | None, workspace_id: int) -> Participation | None:
    """The participation with this id in a campaign of ``workspace_id``, or None."""
    if ident is None:
        return None
    return db.session.scalar(
        select(Participation)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .options(joinedload(Participation.customer))
        .where(Participation.id == ident, Campaign.workspace_id == workspace_id)
    )


def participant_of(campaign: Campaign, ident: int | None) -> Participation:
    """The participation with this id in ``campaign``.

    :raise ValidationFailed: on ``participant_id``, for an id of no participant of it.
    """
    found = participant_in(ident, campaign.workspace_id)
    if found is None or found.campaign_id != campaign.id:
        raise ValidationFailed.on("participant_id", N_("No such participant in this campaign."))
    return found


def _stats(campaign_id: int, ids: Iterable[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Confirmed referrals (from the counters, ``services.counters``) and points (approved +
    pending) of each participation of ``campaign_id``, in two grouped queries however many
    there are."""
    ids = list(ids)
    if not ids:
        return {}, {}
    points = db.session.execute(
        select(LedgerEntry.participation_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.participation_id.in_(ids),
            LedgerEntry.reward == "points",
            LedgerEntry.status != "void",
        )
        .group_by(LedgerEntry.participation_id)
    ).all()
    confirmed = counters.participation_counts(campaign_id, ids)
    referrals = {k: counts.get("referrals:confirmed", 0) for k, counts in confirmed.items()}
    return referrals, {k: int(v or 0) for k, v in points}


def standing(participation: Participation) -> Standing:
    """One participant with their numbers; in a prize draw also their entry."""
    confirmed, points = _stats(participation.campaign_id, [participation.id])
    campaign = db.session.get(Campaign, participation.campaign_id)
    lottery = campaign is not None and campaign.kind == "lottery"
    return Standing(
        participation,
        confirmed.get(participation.id, 0),
        points.get(participation.id, 0),
        entry_of(participation) if lottery else None,
    )


def participant_page(
    campaign: Campaign, status: str | None, limit: int | None, cursor: str | None
) -> CursorPage[Standing]:
    """A page of the campaign's participants (only those with ``status``, when given),
    oldest first, with their numbers.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = (
        select(Participation)
        .options(joinedload(Participation.customer))
        .where(Participation.campaign_id == campaign.id)
    )
    if status:
        query = query.where(Participation.status == status)
    found = page(query, Participation.id, limit, cursor)
    confirmed, points = _stats(campaign.id, (p.id for p in found.items))
    items = [Standing(p, confirmed.get(p.id, 0), points.get(p.id, 0)) for p in found.items]
    return CursorPage(items, found.next_cursor)


def rewards_page(participation: Participation, limit: int | None, cursor: str | None) -> Rewards:
    """A page of the participant's ledger entries, oldest first, and their balances.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = select(LedgerEntry).where(LedgerEntry.participation_id == participation.id)
    found = page(query, LedgerEntry.id, limit, cursor)
    totals = balances(participation.id)
    points = totals.get("points", {})
    return Rewards(
        participant_id=participation.id,
        items=found.items,
        next_cursor=found.next_cursor,
        balances=totals,
        points=points.get("approved", 0) + points.get("pending", 0),
    )
