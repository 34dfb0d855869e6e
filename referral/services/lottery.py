"""Lottery use cases: commit to a seed at publishing, count entries, freeze them at close.

DESIGN invariant 4: the commitment is public from the opening, the entries freeze at close
(their digest is published then) and nothing changes them afterwards. Invariant 5: no
purchase necessary — entries paid for a purchase never count, and a draw with a rule that
still sells entries cannot be closed (``domain.sweepstakes``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from referral.domain import draws as algorithm
from referral.domain import sweepstakes
from referral.domain.campaigns import missing_lottery_rules
from referral.domain.errors import N_, Conflict, Message, ValidationFailed
from referral.extensions import db
from referral.models import (
    Campaign,
    Draw,
    Event,
    LedgerEntry,
    Lottery,
    LotteryEntry,
    LotteryRulesVersion,
    Participation,
    RewardRule,
)
from referral.models.base import utcnow
from referral.services import counters

DEFAULT_MIN_AGE = 18


def official_rules(campaign: Campaign) -> dict[str, Any]:
    """The campaign's official rules (an empty dict when none were given)."""
    rules = (campaign.settings or {}).get("rules")
    return dict(rules) if isinstance(rules, dict) else {}


def missing_rules(campaign: Campaign) -> list[str]:
    """The official-rules fields still missing before the lottery can be published."""
    return missing_lottery_rules(official_rules(campaign))


def with_defaults(rules: dict[str, Any]) -> dict[str, Any]:
    """Rules with the minimum age filled in (18 unless the marketer says otherwise)."""
    return {"min_age": DEFAULT_MIN_AGE, **rules}


def lottery_of(campaign: Campaign) -> Lottery | None:
    """The draw state of a published lottery; None for a draft or another kind."""
    return db.session.scalar(select(Lottery).where(Lottery.campaign_id == campaign.id))


def open_lottery(campaign: Campaign) -> Lottery:
    """On publishing a lottery (inside the caller's transaction): a secret seed, its public
    commitment, and version 1 of the official rules, frozen from now on."""
    seed = algorithm.new_seed()
    lottery = Lottery(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        seed=seed,
        commitment=algorithm.commitment(seed),
        beacon_source=str(official_rules(campaign).get("beacon_source") or "")[:200],
    )
    db.session.add(lottery)
    # A copy for the pages that show it (the Lottery row stays the source of truth).
    campaign.settings = {**(campaign.settings or {}), "commitment": lottery.commitment}
    db.session.add(
        LotteryRulesVersion(
            campaign_id=campaign.id, version=1, rules=official_rules(campaign), reason=""
        )
    )
    return lottery


def rules_versions(campaign: Campaign) -> list[LotteryRulesVersion]:
    return list(
        db.session.scalars(
            select(LotteryRulesVersion)
            .where(LotteryRulesVersion.campaign_id == campaign.id)
            .order_by(LotteryRulesVersion.version)
        )
    )


def amend_rules(campaign: Campaign, rules: dict[str, Any], reason: str) -> LotteryRulesVersion:
    """Change the official rules of a live lottery: a new, numbered version with its reason,
    never an edit of the published one. The commitment and the entries are untouched.

    :raise Conflict: unless the lottery is live.  :raise ValidationFailed: no reason given.
    """
    if campaign.status != "live":
        raise Conflict(N_("Only the rules of a live prize draw can be amended."))
    if not reason.strip():
        raise ValidationFailed.on("reason", N_("Say why the rules change."))
    latest = db.session.scalar(
        select(func.max(LotteryRulesVersion.version)).where(
            LotteryRulesVersion.campaign_id == campaign.id
        )
    )
    version = LotteryRulesVersion(
        campaign_id=campaign.id,
        version=(latest or 0) + 1,
        rules=rules,
        reason=reason.strip()[:500],
    )
    db.session.add(version)
    campaign.settings = {**(campaign.settings or {}), "rules": rules}
    db.session.commit()
    return version


def held_for_review(campaign: Campaign) -> int:
    """How many sign-ups of the draw are flagged and wait for a review: they hold no entry
    (:func:`current_entries` counts confirmed participations only) until one approves them.
    Read from the campaign's counters (``services.counters``), not by counting rows."""
    return counters.by_status(counters.campaign_counts(campaign.id), "status")["flagged"]


def check_entries_open(campaign: Campaign) -> None:
    """:raise Conflict: when the campaign is a lottery whose entries are frozen (closed)."""
    if campaign.kind == "lottery" and campaign.status == "closed":
        raise Conflict(N_("The entries of this prize draw are frozen; nothing can change them."))


def _bonus_by_participation(campaign: Campaign) -> dict[int, int]:
    """Bonus entries per participation from ``entries`` rewards that are not void.

    Bonuses paid for a friend who came through a channel in ``no_bonus_channels`` (a
    platform that forbids rewarding shares, say) are left out, and so are entries paid for a
    purchase or a paid plan (by a rule older than the check that refuses such rules): the
    free way in weighs the same as any other.
    """
    off = official_rules(campaign).get("no_bonus_channels") or []
    source = Participation.__table__.alias("source")
    query = (
        select(LedgerEntry.participation_id, func.sum(LedgerEntry.amount))
        .join(Event, Event.id == LedgerEntry.source_event_id)
        .join(source, source.c.id == Event.participation_id, isouter=True)
        .join(Participation, Participation.id == LedgerEntry.participation_id)
        .where(
            Participation.campaign_id == campaign.id,
            LedgerEntry.reward == "entries",
            LedgerEntry.status != "void",
            Event.kind.not_in(sweepstakes.PAID_EVENTS),
        )
        .group_by(LedgerEntry.participation_id)
    )
    if off:
        query = query.where((LedgerEntry.level == 0) | source.c.channel.not_in(off))
    return {pid: int(total or 0) for pid, total in db.session.execute(query).all()}


def entry_weight(rules: dict[str, Any], bonus: int) -> int:
    """One entry plus bonus entries, never more than ``entry_limit`` (when it is set)."""
    limit = rules.get("entry_limit")
    weight = 1 + max(bonus, 0)
    return min(weight, limit) if isinstance(limit, int) and limit >= 1 else weight


def current_entries(campaign: Campaign) -> dict[int, int]:
    """Weight per confirmed participation as of now (flagged and rejected ones hold none)."""
    bonus = _bonus_by_participation(campaign)
    rules = official_rules(campaign)
    ids = db.session.scalars(
        select(Participation.id).where(
            Participation.campaign_id == campaign.id, Participation.status == "confirmed"
        )
    )
    return {pid: entry_weight(rules, bonus.get(pid, 0)) for pid in ids}


def check_fair_entries(campaign: Campaign) -> None:
    """Before a lottery closes: no active reward rule may give entries for a paid event.

    :raise Conflict: naming the first such rule (it can only be there from before rules
        were checked when saved, or from a direct database write).
    """
    active = db.session.scalars(
        select(RewardRule).where(
            RewardRule.campaign_id == campaign.id,
            RewardRule.active.is_(True),
            RewardRule.reward == "entries",
        )
    )
    sweepstakes.check_closable(campaign.kind, active)


def freeze_entries(campaign: Campaign) -> Lottery:
    """On closing a lottery (inside the caller's transaction, which holds the campaign row):
    write the entry set once, with opaque ids, and publish its digest.

    :raise Conflict: when the lottery was never opened, its entries are already frozen, or
        an active rule gives entries for a paid event (:func:`check_fair_entries`).
    """
    check_fair_entries(campaign)
    lottery = lottery_of(campaign)
    if lottery is None:
        raise Conflict(N_("This prize draw was never opened."))
    if lottery.entries_digest is not None:
        raise Conflict(N_("The entries of this prize draw are frozen; nothing can change them."))
    rows = [
        LotteryEntry(
            campaign_id=campaign.id,
            participation_id=pid,
            entry_id=f"e{secrets.token_hex(8)}",
            weight=weight,
        )
        for pid, weight in current_entries(campaign).items()
    ]
    db.session.add_all(rows)
    lottery.entries_digest = algorithm.entries_digest(
        algorithm.Entry(row.entry_id, row.weight) for row in rows
    )
    lottery.frozen_at = utcnow()
    campaign.settings = {**(campaign.settings or {}), "entries_digest": lottery.entries_digest}
    return lottery


def frozen_entries(campaign: Campaign) -> list[LotteryEntry]:
    return list(
        db.session.scalars(select(LotteryEntry).where(LotteryEntry.campaign_id == campaign.id))
    )


@dataclass(frozen=True)
class EntryInfo:
    entry_id: str | None
    entries: int


def entry_of(participation: Participation) -> EntryInfo:
    """A participant's entry: the frozen one after close, else what they hold now."""
    frozen = db.session.scalar(
        select(LotteryEntry).where(LotteryEntry.participation_id == participation.id)
    )
    if frozen is not None:
        return EntryInfo(frozen.entry_id, frozen.weight)
    campaign = db.session.get(Campaign, participation.campaign_id)
    if campaign is None or campaign.kind != "lottery" or participation.status != "confirmed":
        return EntryInfo(None, 0)
    bonus = _bonus_by_participation(campaign).get(participation.id, 0)
    return EntryInfo(None, entry_weight(official_rules(campaign), bonus))


def age_on(birth: date, today: date) -> int:
    """Whole years between ``birth`` and ``today``."""
    before_birthday = (today.month, today.day) < (birth.month, birth.day)
    return today.year - birth.year - int(before_birthday)


def check_eligibility(campaign: Campaign, birth_date: date | None, region: str | None) -> None:
    """A lottery is open only to people of the minimum age in the eligible regions. The birth
    date is used for this check alone and never stored.

    :raise ValidationFailed: naming ``birth_date`` and/or ``region`` with the reason.
    """
    if campaign.kind != "lottery":
        return
    rules = with_defaults(official_rules(campaign))
    errors: dict[str, list[Any]] = {}
    today = utcnow().date()
    if birth_date is None:
        errors["birth_date"] = [N_("Give your date of birth.")]
    elif birth_date > today or birth_date.year < 1900:
        errors["birth_date"] = [N_("Give a real date of birth.")]
    elif age_on(birth_date, today) < int(rules["min_age"]):
        errors["birth_date"] = [
            Message(N_("You must be at least %(age)s to enter."), {"age": rules["min_age"]})
        ]
    regions = rules.get("regions") or []
    if regions and (region or "") not in regions:
        errors["region"] = [
            Message(
                N_("This draw is open only to residents of %(regions)s."),
                {"regions": ", ".join(regions)},
            )
        ]
    if errors:
        raise ValidationFailed(N_("You cannot enter this draw."), errors)


def public_fields(campaign: Campaign) -> dict[str, Any]:
    """What a lottery publishes beside its rules: ``commitment`` from the opening,
    ``entries_digest`` from the close, ``draw_id`` after the draw; {} for other kinds."""
    if campaign.kind != "lottery":
        return {}
    state = lottery_of(campaign)
    draw_id = db.session.scalar(select(Draw.id).where(Draw.campaign_id == campaign.id))
    return {
        "commitment": state.commitment if state else None,
        "entries_digest": state.entries_digest if state else None,
        "draw_id": str(draw_id) if draw_id else None,
    }
