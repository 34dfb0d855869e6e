"""Draw use cases: run a lottery's one draw, replace a disqualified winner, publish results.

The algorithm is ``domain.draws`` (docs/DRAWS.md); this module feeds it the frozen entries
and the committed seed, keeps the published record, and logs every draw and redraw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain import draws as algorithm
from referral.domain.errors import N_, Conflict, ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Customer,
    Draw,
    DrawReplacement,
    Lottery,
    LotteryEntry,
    Participation,
)
from referral.models.base import utcnow
from referral.services import lottery, outbox, webhooks
from referral.services.tx import retry_on_contention

MAX_COUNT = 10_000
# (draw, participation, customer) -> the winner's e-mail; only ever called with a draw record.
WinnerComposer = Callable[[Draw, Participation, Customer], outbox.Mail]


def _count(value: Any, field: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_COUNT:
        raise ValidationFailed.on(
            field,
            N_("Give a whole number from %(low)s to %(high)s."),
            {"low": low, "high": MAX_COUNT},
        )
    return value


def draw_of(campaign: Campaign) -> Draw | None:
    return db.session.scalar(select(Draw).where(Draw.campaign_id == campaign.id))


def _check_drawable(campaign: Campaign) -> None:
    if campaign.kind != "lottery":
        raise Conflict(N_("Only a prize draw has winners to draw."))
    if campaign.status != "closed":
        raise Conflict(N_("Close the prize draw first: winners are drawn from frozen entries."))
    if draw_of(campaign) is not None:
        raise Conflict(N_("This prize draw has been drawn already; a draw runs once."))


def _counts(campaign: Campaign, winners: Any, alternates: Any, beacon: Any) -> tuple[int, int]:
    """The checked numbers of winners and alternates (default: the rules'); checks the beacon.

    :raise ValidationFailed: on ``winners``, ``alternates`` or ``beacon``.
    """
    if alternates is None:
        alternates = lottery.official_rules(campaign).get("alternates", 0)
    if not isinstance(beacon, str) or len(beacon) > 200:
        raise ValidationFailed.on(
            "beacon", N_("The beacon must be text of at most 200 characters.")
        )
    return _count(winners, "winners", 1), _count(alternates, "alternates", 0)


def _drawn(campaign: Campaign, state: Lottery, wanted: int, spare: int, beacon: str) -> Draw:
    """The draw of ``campaign``'s frozen entries with its published record (not yet added)."""
    entries = [
        algorithm.Entry(row.entry_id, row.weight) for row in lottery.frozen_entries(campaign)
    ]
    assert state.entries_digest is not None  # run_draw refuses entries that never froze
    result = algorithm.draw(state.seed, state.entries_digest, entries, wanted, spare, beacon)
    drawn_at = utcnow()
    record = algorithm.draw_record(
        str(campaign.id),
        seed_hex=state.seed,
        entries=entries,
        beacon=beacon,
        winners_count=wanted,
        alternates_count=spare,
        result=result,
        drawn_at=drawn_at,
    )
    draw = Draw(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        record=record,
        drawn_at=drawn_at,
    )
    return draw


@retry_on_contention
def run_draw(
    campaign: Campaign,
    winners: Any,
    alternates: Any = None,
    beacon: Any = "",
    *,
    compose: WinnerComposer | None = None,
    marketer_id: int | None = None,
) -> Draw:
    """Draw the winners of a closed lottery, once, by ``referral-draw-v1`` from the committed
    seed and the frozen entries; the record is published for anyone to verify.

    ``alternates`` defaults to the number in the official rules. A second draw, also one
    racing this one, is refused: the campaign row is locked and ``draws.campaign_id`` is
    unique. Winners are e-mailed through ``compose`` in the same transaction.

    :raise Conflict: not a closed lottery, or drawn already.
    :raise ValidationFailed: on ``winners``, ``alternates`` or ``beacon``.
    """
    db.session.refresh(campaign, with_for_update=True)
    _check_drawable(campaign)
    wanted, spare = _counts(campaign, winners, alternates, beacon)
    state = lottery.lottery_of(campaign)
    if state is None or state.entries_digest is None:
        raise Conflict(N_("The entries of this prize draw were never frozen."))
    draw = _drawn(campaign, state, wanted, spare, beacon)
    try:
        with db.session.begin_nested():
            db.session.add(draw)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("This prize draw has been drawn already; a draw runs once.")) from None
    _log(draw, marketer_id, "draw.run", {"winners": draw.record["winners"], "beacon": beacon})
    webhooks.enqueue(draw.workspace_id, "draw.completed", f"draw.completed:{draw.id}", _hook(draw))
    if compose is not None:
        _notify(draw, draw.record["winners"], compose)
    db.session.commit()
    return draw


def _hook(draw: Draw) -> dict[str, Any]:
    """The ``draw.completed`` webhook's data: the outcome and where to verify it (the
    entries list stays on the record, which can be long)."""
    record = draw.record
    keys = ("campaign_id", "commitment", "seed", "entries_digest", "winners", "alternates")
    return {"draw": {"id": str(draw.id), **{key: record[key] for key in keys}}}


def _log(draw: Draw, marketer_id: int | None, action: str, data: dict[str, Any]) -> None:
    db.session.add(
        AuditEntry(
            workspace_id=draw.workspace_id,
            marketer_id=marketer_id,
            action=action,
            subject=f"draw:{draw.id}",
            data=data,
        )
    )


def people_of(entry_ids: list[str]) -> dict[str, tuple[Participation, Customer]]:
    """Who holds each of ``entry_ids`` (for the workspace only: e-mails and names)."""
    rows = db.session.execute(
        select(LotteryEntry.entry_id, Participation, Customer)
        .join(Participation, Participation.id == LotteryEntry.participation_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(LotteryEntry.entry_id.in_(entry_ids))
    ).all()
    return {entry_id: (participation, customer) for entry_id, participation, customer in rows}


def _notify(draw: Draw, entry_ids: list[str], compose: WinnerComposer) -> None:
    """Queue "you have won" mails; they exist only for entries of this draw's record."""
    drawn = set(draw.record["winners"]) | set(draw.record["alternates"])
    people = people_of([entry_id for entry_id in entry_ids if entry_id in drawn])
    for participation, customer in people.values():
        if customer.email_display:
            outbox.queue(
                draw.workspace_id,
                customer.email_display,
                "draw_winner",
                compose(draw, participation, customer),
                customer.id,
            )


def replacements(draw: Draw) -> list[DrawReplacement]:
    return list(
        db.session.scalars(
            select(DrawReplacement)
            .where(DrawReplacement.draw_id == draw.id)
            .order_by(DrawReplacement.id)
        )
    )


def current_winners(draw: Draw) -> list[str]:
    """The winners after replacements, in draw order (a promoted alternate takes the slot)."""
    winners = list(draw.record["winners"])
    for row in replacements(draw):
        if row.disqualified_entry_id in winners:
            index = winners.index(row.disqualified_entry_id)
            if row.replacement_entry_id:
                winners[index] = row.replacement_entry_id
            else:
                winners.pop(index)
    return winners


def _replacement(draw: Draw, entry_id: str, reason: str) -> DrawReplacement:
    """The next unused alternate in draw order for ``entry_id``, as a row in the session.

    :raise ValidationFailed: on ``entry_id`` (not a current winner).
    :raise Conflict: when the same winner was disqualified concurrently.
    """
    used = [row.replacement_entry_id for row in replacements(draw) if row.replacement_entry_id]
    if entry_id not in current_winners(draw):
        raise ValidationFailed.on(
            "entry_id", N_("Entry %(entry_id)s is not a winner."), {"entry_id": entry_id}
        )
    record = draw.record
    row = DrawReplacement(
        draw_id=draw.id,
        disqualified_entry_id=entry_id,
        replacement_entry_id=algorithm.replace_winner(
            record["winners"], record["alternates"], used, entry_id
        ),
        reason=reason,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("This winner was replaced at the same time; reload.")) from None
    return row


@retry_on_contention
def replace_winner(
    draw: Draw,
    entry_id: str,
    reason: str,
    *,
    compose: WinnerComposer | None = None,
    marketer_id: int | None = None,
) -> DrawReplacement:
    """Disqualify a winner: the next unused alternate in draw order takes the place, with the
    reason and time recorded and logged. No new randomness is ever drawn.

    :raise ValidationFailed: on ``reason`` (empty) or ``entry_id`` (not a current winner).
    :raise Conflict: when the same winner was disqualified concurrently.
    """
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed.on("reason", N_("Give the reason, in at most 500 characters."))
    db.session.refresh(draw, with_for_update=True)
    row = _replacement(draw, entry_id, reason)
    successor = row.replacement_entry_id
    _log(draw, marketer_id, "draw.replace", {"out": entry_id, "in": successor, "reason": reason})
    if compose is not None and successor is not None:
        _notify(draw, [successor], compose)
    db.session.commit()
    return row


def published_record(draw: Draw) -> dict[str, Any]:
    """The record of docs/DRAWS.md, plus the replacements (each with its reason and time)."""
    return {
        **draw.record,
        "draw_id": str(draw.id),
        "replacements": [
            {
                "disqualified": row.disqualified_entry_id,
                "replacement": row.replacement_entry_id,
                "reason": row.reason,
                "at": row.created_at.isoformat(),
            }
            for row in replacements(draw)
        ],
    }


def public_draw(draw_id: int) -> tuple[Draw, Campaign] | None:
    """Any draw by id, with its campaign: records are public so anyone can verify them."""
    draw = db.session.get(Draw, draw_id)
    campaign = db.session.get(Campaign, draw.campaign_id) if draw else None
    return (draw, campaign) if draw and campaign else None


def publish_results(draw: Draw, marketer_id: int | None = None) -> Draw:
    """Show the winners' entry ids and masked names on the public pages."""
    draw.results_published = True
    _log(draw, marketer_id, "draw.publish_results", {})
    db.session.commit()
    return draw
