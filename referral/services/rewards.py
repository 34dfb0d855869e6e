"""Paying rewards into the ledger: depth-capped, once per (event, beneficiary, level, rule),
and only between people who have confirmed their address (double opt-in)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from referral.domain import rewards as rules_domain
from referral.domain import sweepstakes
from referral.domain.attribution import chain
from referral.domain.depth import may_pay
from referral.extensions import db
from referral.models import (
    Campaign,
    CouponCode,
    Event,
    LedgerEntry,
    Participation,
    RewardRule,
)
from referral.models.base import utcnow
from referral.services import events, memo, webhooks
from referral.services.campaigns import ceiling
from referral.services.rows import affected_rows, insert_row_once, insert_rows_once, rows_where

memo.watch(RewardRule)

PAYMENT_KEY = ("source_event_id", "participation_id", "level", "rule_id")


def _rules(campaign: Campaign) -> list[rules_domain.Rule]:
    """The campaign's active reward rules, read once per transaction (and kept while the
    configuration is unchanged: ``memo.shared``)."""
    return memo.shared(("reward_rules", campaign.id), lambda: _load_rules(campaign.id))


_ACTIVE_RULES = (
    select(RewardRule)
    .where(RewardRule.campaign_id == bindparam("campaign_id"), RewardRule.active.is_(True))
    .order_by(RewardRule.id)
)


def _load_rules(campaign_id: int) -> list[rules_domain.Rule]:
    rows = db.session.scalars(_ACTIVE_RULES, {"campaign_id": campaign_id})
    return [
        rules_domain.Rule(r.id, r.event, r.milestone, r.level, r.reward, r.amount) for r in rows
    ]


def _already_paid(beneficiary_id: int) -> tuple[int, int]:
    """Count and summed amount of non-void referral rewards (level >= 1) of one advocate."""
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.participation_id == beneficiary_id,
            LedgerEntry.level >= 1,
            LedgerEntry.status != "void",
        )
    ).one()
    return int(row[0]), int(row[1])


def opted_in(people: list[Participation | None]) -> set[int]:
    """The ids of those who confirmed their address and were not rejected: the only people
    rewards flow from or to."""
    return {
        p.id
        for p in people
        if p is not None and p.confirmed_at is not None and p.status != "rejected"
    }


def _held(campaign: Campaign, *parties: Participation | None) -> bool:
    return campaign.hold_days > 0 or any(p is not None and p.status == "flagged" for p in parties)


def _assign_coupon(campaign: Campaign, entry: LedgerEntry) -> None:
    """Hand out one unused coupon from the campaign's pool (never the same one twice)."""
    for _ in range(5):
        candidate = db.session.scalar(
            select(CouponCode.id)
            .where(CouponCode.campaign_id == campaign.id, CouponCode.ledger_entry_id.is_(None))
            .order_by(CouponCode.id)
            .limit(1)
        )
        if candidate is None:
            entry.reason = "coupon_pool_empty"
            return
        taken = db.session.execute(
            update(CouponCode)
            .where(CouponCode.id == candidate, CouponCode.ledger_entry_id.is_(None))
            .values(ledger_entry_id=entry.id)
        )
        if affected_rows(taken) == 1:
            entry.coupon_code = db.session.get_one(CouponCode, candidate).code
            return


def _line(
    campaign: Campaign,
    event: Event,
    payout: rules_domain.Payout,
    held: bool,
    now: datetime,
    reason: str = "",
) -> dict[str, Any]:
    """The columns of the ledger line that pays ``payout`` for ``event``, made at ``now``."""
    return {
        "participation_id": payout.beneficiary_id,
        "source_event_id": event.id,
        "rule_id": payout.rule_id,
        "level": payout.level,
        "reward": payout.reward,
        "amount": payout.amount,
        "status": "pending" if held else "approved",
        "reason": reason or ("held_for_review" if held and campaign.hold_days == 0 else ""),
        "approve_after": now + timedelta(days=campaign.hold_days) if held else None,
        "decided_at": None if held else now,
    }


def _granted(
    campaign: Campaign,
    event: Event,
    payout: rules_domain.Payout,
    entry: LedgerEntry,
    now: datetime,
    timeline: events.Timeline,
) -> None:
    """What a new ledger line brings with it: its coupon, the webhook and the timeline's
    ``reward_granted`` (added to ``timeline``)."""
    if payout.reward == "coupon":
        _assign_coupon(campaign, entry)
    webhooks.reward_granted(campaign.workspace_id, entry)
    timeline.add(
        db.session.get_one(Participation, payout.beneficiary_id),
        "reward_granted",
        amount=payout.amount,
        data={
            "reward": payout.reward,
            "level": payout.level,
            "source_event_id": event.id,
            "status": entry.status,
        },
        occurred_at=now,
    )


def _insert(
    campaign: Campaign, event: Event, payout: rules_domain.Payout, held: bool, reason: str = ""
) -> LedgerEntry | None:
    """Insert one ledger line; None when this exact payment exists (unique key)."""
    now = utcnow()
    entry = insert_row_once(
        LedgerEntry, _line(campaign, event, payout, held, now, reason), PAYMENT_KEY
    )
    if entry is None:
        return None  # paid already, also by a concurrent transaction
    timeline = events.Timeline(campaign.workspace_id)
    _granted(campaign, event, payout, entry, now, timeline)
    timeline.write()
    return entry


def _insert_all(
    campaign: Campaign,
    event: Event,
    pending: list[tuple[rules_domain.Payout, bool]],
    timeline: events.Timeline,
) -> list[LedgerEntry]:
    """:func:`_insert` for the payouts of one event, their ledger lines in one statement and
    their ``reward_granted`` added to ``timeline``; the new lines, in the order of
    ``pending`` (a payment that exists is left out)."""
    now = utcnow()
    lines = [_line(campaign, event, payout, held, now) for payout, held in pending]
    paid = []
    for (payout, _held), entry in zip(
        pending, insert_rows_once(LedgerEntry, lines, PAYMENT_KEY), strict=True
    ):
        if entry is not None:  # None: paid already, also by a concurrent transaction
            _granted(campaign, event, payout, entry, now, timeline)
            paid.append(entry)
    return paid


def chain_of(actor: Participation) -> dict[int, Participation]:
    """The actor and the people up their referral chain, by id: the actor as the caller
    holds it, the others in one query (none for a person nobody referred)."""
    people = chain(actor.id, actor.path)
    return {actor.id: actor, **{p.id: p for p in rows_where(Participation, "id", people[1:])}}


def pay_for_event(
    event: Event,
    actor: Participation,
    campaign: Campaign,
    people_by_id: dict[int, Participation] | None = None,
    timeline: events.Timeline | None = None,
) -> list[LedgerEntry]:
    """Pay every rule of ``event.kind`` up the actor's chain, within the depth cap and the
    per-advocate caps, each payment at most once; then any milestones it completes.

    Nothing is paid for an actor who has not confirmed their address, nor to a referrer who
    has not; level 0 of ``signup_confirmed`` pays only a friend someone (confirmed) referred
    (``domain.rewards``). A lottery never pays draw entries for a paid event
    (``domain.sweepstakes``). When the actor confirms, milestones they reached while
    unconfirmed are paid too.

    ``people_by_id``: the actor's :func:`chain_of`, when the caller has read it already.
    ``timeline``: the caller's events still to write, written (before any milestone's) with
    the ``reward_granted`` of the payments, in one statement.
    Runs inside the caller's transaction (no commit). Returns the new ledger lines.
    """
    timeline = timeline if timeline is not None else events.Timeline(campaign.workspace_id)
    rules = _rules(campaign)
    if not rules:
        timeline.write()
        return []
    people = chain(actor.id, actor.path)
    by_id = people_by_id if people_by_id is not None else chain_of(actor)
    payouts = rules_domain.event_payouts(
        event.kind,
        people,
        rules,
        campaign.reward_depth,
        ceiling(),
        opted_in([by_id.get(pid) for pid in people]),
    )
    paid: list[LedgerEntry] = []
    pending: list[tuple[rules_domain.Payout, bool]] = []
    capped = _has_caps(campaign)
    for payout in payouts:
        if capped and payout.level >= 1 and pending:
            # A cap counts what the advocate was paid: the lines before this one first.
            paid.extend(_insert_all(campaign, event, pending, timeline))
            pending = []
        if not _may_pay(campaign, event, payout):
            continue
        pending.append((payout, _held(campaign, actor, by_id[payout.beneficiary_id])))
    paid.extend(_insert_all(campaign, event, pending, timeline))
    timeline.write()
    if event.kind == "signup_confirmed":
        paid.extend(_milestones_on_confirmation(actor, by_id, campaign, rules))
    return paid


def _milestones_on_confirmation(
    actor: Participation,
    by_id: dict[int, Participation],
    campaign: Campaign,
    rules: list[rules_domain.Rule],
) -> list[LedgerEntry]:
    """A confirmation may complete a milestone of the referrer, and pays the actor's own
    milestones reached while they were unconfirmed."""
    paid = []
    referrer = by_id.get(actor.referrer_id) if actor.referrer_id is not None else None
    if referrer is not None:
        paid.extend(pay_milestones(referrer, campaign, rules))
    paid.extend(pay_milestones(actor, campaign, rules))
    return paid


def _may_pay(campaign: Campaign, event: Event, payout: rules_domain.Payout) -> bool:
    """Whether a payout the rules allow is paid now: within the per-advocate caps, not
    entries of a closed lottery, and no entries bought."""
    if payout.level >= 1 and not _within_caps(campaign, payout):
        return False
    if payout.reward == "entries" and campaign.kind == "lottery" and campaign.status == "closed":
        return False  # a lottery's entries froze at its close (DESIGN invariant 4)
    # No purchase necessary (DESIGN invariant 5), also for an older rule.
    return not sweepstakes.buys_entries(campaign.kind, event.kind, payout.reward)


def _has_caps(campaign: Campaign) -> bool:
    """Whether the campaign caps what one advocate may be paid for referrals."""
    settings = campaign.settings
    return settings.get("cap_count") is not None or settings.get("cap_value") is not None


def _within_caps(campaign: Campaign, payout: rules_domain.Payout) -> bool:
    if not _has_caps(campaign):
        return True
    count, value = _already_paid(payout.beneficiary_id)
    return rules_domain.within_caps(
        count,
        value,
        payout.amount,
        campaign.settings.get("cap_count"),
        campaign.settings.get("cap_value"),
    )


def confirmed_referrals(participation_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                Participation.referrer_id == participation_id,
                Participation.status == "confirmed",
            )
        )
        or 0
    )


def pay_milestones(
    advocate: Participation, campaign: Campaign, rules: list[rules_domain.Rule] | None = None
) -> list[LedgerEntry]:
    """Pay milestone rules the advocate has reached and not yet been paid for.

    The source event of a milestone is the confirmation of the N-th confirmed referral
    (ordered by confirmation time, then id), so two requests completing it at once compute
    the same payment and the unique key keeps one. Nothing is paid to an advocate (or their
    referrer) who has not confirmed their address.
    """
    rules = rules if rules is not None else _rules(campaign)
    if not any(r.milestone is not None for r in rules):
        return []
    people = chain(advocate.id, advocate.path)
    confirmed = opted_in(
        list(db.session.scalars(select(Participation).where(Participation.id.in_(people[:2]))))
    )
    reached = rules_domain.reached_milestones(rules, confirmed_referrals(advocate.id))
    paid = []
    for rule in reached:
        assert rule.milestone is not None  # reached_milestones keeps milestone rules only
        nth = _nth_confirmed_referral(advocate, rule.milestone)
        if nth is None:
            continue
        new = [
            entry
            for payout in rules_domain.milestone_payouts(
                rule, people, campaign.reward_depth, ceiling(), confirmed
            )
            if (entry := _insert(campaign, nth, payout, _held(campaign, advocate))) is not None
        ]
        if new:
            _milestone_reached(campaign, advocate, rule)
        paid.extend(new)
    return paid


def _milestone_reached(
    campaign: Campaign, advocate: Participation, rule: rules_domain.Rule
) -> None:
    """On the advocate's timeline once per milestone rule (a journey trigger); a concurrent
    request that recorded it first keeps its row."""
    events.record_event_once(
        campaign.workspace_id,
        advocate,
        "milestone_reached",
        external_id=f"milestone:{rule.id}:{advocate.id}",
        data={"milestone": rule.milestone, "rule_id": rule.id},
    )


def _nth_confirmed_referral(advocate: Participation, n: int) -> Event | None:
    """The confirmation of the advocate's ``n``-th confirmed referral, by confirmation time
    (then id): the source event of the milestone at ``n``."""
    return db.session.scalar(
        select(Event)
        .join(Participation, Participation.id == Event.participation_id)
        .where(
            Participation.referrer_id == advocate.id,
            Participation.status == "confirmed",
            Event.kind == "signup_confirmed",
        )
        .order_by(Participation.confirmed_at, Participation.id)
        .offset(n - 1)
        .limit(1)
    )


def approve_due() -> int:
    """Approve pending rewards whose hold period is over and that are not held for review.

    A reward of someone who has not confirmed their address (only an older version paid
    those) waits for the confirmation.
    """
    now = utcnow()
    flagged = select(Participation.id).where(
        Participation.status.in_(("flagged", "rejected")) | Participation.confirmed_at.is_(None)
    )
    result = db.session.execute(
        update(LedgerEntry)
        .where(
            LedgerEntry.status == "pending",
            LedgerEntry.approve_after.is_not(None),
            LedgerEntry.approve_after <= now,
            LedgerEntry.participation_id.not_in(flagged),
        )
        .values(status="approved", decided_at=now)
    )
    db.session.commit()
    return affected_rows(result)


def balances(participation_id: int) -> dict[str, dict[str, int]]:
    """Per reward kind, the approved and pending totals (void lines count for nothing)."""
    rows = db.session.execute(
        select(LedgerEntry.reward, LedgerEntry.status, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.participation_id == participation_id, LedgerEntry.status != "void")
        .group_by(LedgerEntry.reward, LedgerEntry.status)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for reward, status, total in rows:
        out.setdefault(reward, {"approved": 0, "pending": 0})[status] = int(total or 0)
    return out


def points(participation_id: int) -> int:
    """Approved plus pending points (what the advocate page and the API show)."""
    totals = balances(participation_id).get("points", {})
    return totals.get("approved", 0) + totals.get("pending", 0)


GRANT_LEVEL = 0  # a grant pays the customer itself, never up the chain


def grant(
    participation: Participation,
    campaign: Campaign,
    reward: str,
    amount: int,
    source_key: str,
    data: dict[str, object] | None = None,
) -> LedgerEntry | None:
    """Pay ``amount`` of ``reward`` to ``participation`` itself for something no reward rule
    pays for (a journey's grant step), at most once per ``source_key``.

    The payment is a ``reward_granted`` event on the customer's timeline, stored under the
    external id ``source_key``, and it is the ledger line's source event; the line has no
    rule, level 0 (asked of the depth cap like any payment; the database refuses a line
    without a rule at another level) and the unique ``source_key``, so a second call with
    the same key, also from a concurrent transaction, pays nothing. It is held like any
    reward (the campaign's hold days, a flagged participant) and queues ``reward.granted``.
    Nothing is paid to someone who has not confirmed their address or was rejected (H1).

    Runs inside the caller's transaction (no commit). Returns the new line, or None when
    nothing was paid.
    """
    if participation.id not in opted_in([participation]):
        return None
    if not may_pay(GRANT_LEVEL, None, campaign.reward_depth, ceiling()):
        return None
    held = _held(campaign, participation)
    now = utcnow()
    status = "pending" if held else "approved"
    try:
        with db.session.begin_nested():
            event = events.record_event(
                campaign.workspace_id,
                participation,
                "reward_granted",
                amount=amount,
                external_id=source_key,
                data={
                    **(data or {}),
                    "reward": reward,
                    "level": GRANT_LEVEL,
                    "source_key": source_key,
                    "status": status,
                },
                occurred_at=now,
            )
            db.session.flush()
            entry = LedgerEntry(
                participation_id=participation.id,
                source_event_id=event.id,
                rule_id=None,
                source_key=source_key,
                level=GRANT_LEVEL,
                reward=reward,
                amount=amount,
                status=status,
                reason="held_for_review" if held and campaign.hold_days == 0 else "",
                approve_after=now + timedelta(days=campaign.hold_days) if held else None,
                decided_at=None if held else now,
            )
            db.session.add(entry)
            db.session.flush()
            if reward == "coupon":
                _assign_coupon(campaign, entry)
    except IntegrityError:
        if granted(source_key) is None:
            raise
        return None
    webhooks.reward_granted(campaign.workspace_id, entry)
    return entry


def granted(source_key: str) -> LedgerEntry | None:
    """The ledger line paid under ``source_key``, if any."""
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.source_key == source_key))
