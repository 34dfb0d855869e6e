"""Counts that stay cheap to read: clicks, sign-ups by status and referrals, kept in slots.

A page that shows how many clicks a link had must not count ten million click rows each
time it is viewed. Each count lives in ``counters`` as up to :data:`COUNTER_SLOTS` rows
(slots) and is read as their sum. The writes that change what is counted add to the count
in the same transaction, with one ``INSERT … ON CONFLICT DO UPDATE SET value = value +
excluded.value`` built once and run for each counter they touch (one call); a writer
thread always uses the same slot, so writers running at once rarely wait on one row and
never lose an increment.

The counts, per campaign (``participation_id`` 0) and per participation:

========================  =====================================================
``clicks``                clicks on the campaign's links / on this person's link
``status:<s>``            the campaign's participants with status ``s``
``referred:<s>``          of those, the ones who came through somebody's link
``referrals:<s>``         the people this participant referred, by their status
========================  =====================================================

They are exact while every write goes through the functions below: the click writer
(``services.clicks``), joining, confirming and review decisions. Erasure keeps every row it
counts, so it changes none. Rows written or removed another way (the demo's seeding, a fix
by hand in the database, clicks past their retention, which ``services.retention`` prunes)
are brought back in line by :func:`reconcile`, also run as ``referral reconcile-counters``
and by the pruning that removed clicks: the counts then follow the rows that are there.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select

from referral.extensions import db
from referral.models import COUNTER_SLOTS, Campaign, Click, Counter, Participation
from referral.models.participation import PARTICIPATION_STATUSES
from referral.services.rows import add_to_rows
from referral.services.tx import atomic

CAMPAIGN = 0  # the participation_id of a campaign's own counters
CLICKS = "clicks"

# (campaign id, participation id or CAMPAIGN, counter name)
Key = tuple[int, int, str]


class Counted(Protocol):
    """What a participation's counts depend on (a ``Participation``, or a row of one)."""

    @property
    def campaign_id(self) -> int: ...
    @property
    def referrer_id(self) -> int | None: ...


# --- writing -------------------------------------------------------------------------------


def slot() -> int:
    """This thread's slot: native thread ids of the threads and processes serving requests
    differ, so concurrent writers mostly land on different rows."""
    return threading.get_native_id() % COUNTER_SLOTS


def add(deltas: Mapping[Key, int]) -> None:
    """Add ``deltas`` to their counters in this thread's slot, in the caller's transaction:
    one statement run for all the counters (its rows one after another), rows in key order
    (so two writers that touch the same counters lock them in the same order), zero deltas
    left out."""
    mine = slot()
    rows = [
        {"campaign_id": c, "participation_id": p, "name": n, "slot": mine, "value": v}
        for (c, p, n), v in sorted(deltas.items())
        if v
    ]
    add_to_rows(Counter, rows, ("campaign_id", "participation_id", "name", "slot"), "value")


def click_deltas(rows: Iterable[Mapping[str, Any]]) -> Tally[Key]:
    """What a batch of click rows adds: to each campaign's and each link owner's clicks."""
    deltas: Tally[Key] = Tally()
    for row in rows:
        deltas[(row["campaign_id"], CAMPAIGN, CLICKS)] += 1
        deltas[(row["campaign_id"], row["participation_id"], CLICKS)] += 1
    return deltas


def clicked(rows: Iterable[Mapping[str, Any]]) -> None:
    """Count a batch of inserted clicks (one upsert per counter touched, however many)."""
    add(click_deltas(rows))


def move_deltas(row: Counted, before: str | None, after: str | None) -> Tally[Key]:
    """What a participation going from status ``before`` to ``after`` changes (None: it
    did not exist): its campaign's status counts, and when it was referred, the campaign's
    referred counts and its referrer's referrals."""
    deltas: Tally[Key] = Tally()
    names = [("status", CAMPAIGN)]
    if row.referrer_id is not None:
        names += [("referred", CAMPAIGN), ("referrals", row.referrer_id)]
    for prefix, owner in names:
        if before is not None:
            deltas[(row.campaign_id, owner, f"{prefix}:{before}")] -= 1
        if after is not None:
            deltas[(row.campaign_id, owner, f"{prefix}:{after}")] += 1
    return deltas


def joined(row: Participation) -> None:
    """Count a new participation (with its status at insert), in the caller's transaction."""
    add(move_deltas(row, None, row.status))


def moved(rows: Iterable[tuple[Counted, str, str]]) -> None:
    """Count status changes ``(participation, before, after)`` in one statement."""
    deltas: Tally[Key] = Tally()
    for row, before, after in rows:
        if before != after:
            deltas.update(move_deltas(row, before, after))
    add(deltas)


# --- reading -------------------------------------------------------------------------------


def campaign_counts(campaign_id: int) -> dict[str, int]:
    """A campaign's own counts by name (a count never written is absent: zero)."""
    rows = db.session.execute(
        select(Counter.name, func.sum(Counter.value))
        .where(Counter.campaign_id == campaign_id, Counter.participation_id == CAMPAIGN)
        .group_by(Counter.name)
    )
    return {name: int(total or 0) for name, total in rows}


def participation_counts(campaign_id: int, ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """The counts of each of ``ids`` (participations of ``campaign_id``) by name."""
    wanted = sorted(set(ids) - {CAMPAIGN})
    found: dict[int, dict[str, int]] = {pid: {} for pid in wanted}
    if not wanted:
        return found
    rows = db.session.execute(
        select(Counter.participation_id, Counter.name, func.sum(Counter.value))
        .where(Counter.campaign_id == campaign_id, Counter.participation_id.in_(wanted))
        .group_by(Counter.participation_id, Counter.name)
    )
    for pid, name, total in rows:
        found[pid][name] = int(total or 0)
    return found


def by_status(counts: Mapping[str, int], prefix: str) -> dict[str, int]:
    """``{status: n}`` for every participation status, from counts named ``prefix:status``."""
    return {status: counts.get(f"{prefix}:{status}", 0) for status in PARTICIPATION_STATUSES}


# --- reconciling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """A count that differed from its rows: what the counter said and what is true."""

    campaign_id: int
    participation_id: int
    name: str
    counted: int
    actual: int


def truth(campaign_id: int) -> Tally[Key]:
    """Every count of the campaign as its rows say, counted with ``COUNT(*)``."""
    counts: Tally[Key] = Tally()
    total = db.session.scalar(select(func.count()).where(Click.campaign_id == campaign_id))
    counts[(campaign_id, CAMPAIGN, CLICKS)] = int(total or 0)
    per_link = db.session.execute(
        select(Click.participation_id, func.count())
        .where(Click.campaign_id == campaign_id)
        .group_by(Click.participation_id)
    )
    for pid, n in per_link:
        counts[(campaign_id, pid, CLICKS)] = int(n)
    groups = db.session.execute(
        select(Participation.referrer_id, Participation.status, func.count())
        .where(Participation.campaign_id == campaign_id)
        .group_by(Participation.referrer_id, Participation.status)
    )
    for referrer_id, status, n in groups:
        counts[(campaign_id, CAMPAIGN, f"status:{status}")] += int(n)
        if referrer_id is not None:
            counts[(campaign_id, CAMPAIGN, f"referred:{status}")] += int(n)
            counts[(campaign_id, referrer_id, f"referrals:{status}")] += int(n)
    return counts


def _counted(campaign_id: int) -> Tally[Key]:
    """Every count of the campaign as its counters say, after locking their rows.

    The lock (PostgreSQL; SQLite has one writer at a time anyway) makes a writer that is
    adding to an existing slot either finish before the rows are counted, or wait until the
    correction is committed and add on top of it. A writer adding a slot row nobody has seen
    yet is counted neither in the rows nor in the counters, so the difference holds either
    way. Rows are locked in key order, the order writers take them in.
    """
    db.session.execute(
        select(Counter.slot)
        .where(Counter.campaign_id == campaign_id)
        .order_by(Counter.participation_id, Counter.name, Counter.slot)
        .with_for_update()
    ).all()
    rows = db.session.execute(
        select(Counter.participation_id, Counter.name, func.sum(Counter.value))
        .where(Counter.campaign_id == campaign_id)
        .group_by(Counter.participation_id, Counter.name)
    )
    return Tally({(campaign_id, pid, name): int(v or 0) for pid, name, v in rows})


@atomic
def reconcile_campaign(campaign_id: int) -> list[Drift]:
    """Recount one campaign's counters from its clicks and participations and correct each
    that differed, by adding the difference; the counts that differed, in key order."""
    counted = _counted(campaign_id)
    actual = truth(campaign_id)
    drifts = [
        Drift(*key, counted.get(key, 0), actual.get(key, 0))
        for key in sorted(set(counted) | set(actual))
        if counted.get(key, 0) != actual.get(key, 0)
    ]
    add({(d.campaign_id, d.participation_id, d.name): d.actual - d.counted for d in drifts})
    return drifts


def reconcile(campaign_id: int | None = None) -> list[Drift]:
    """:func:`reconcile_campaign` for one campaign, or for every campaign, each in its own
    transaction; the counts that differed."""
    if campaign_id is not None:
        ids = [campaign_id]
    else:
        ids = list(db.session.scalars(select(Campaign.id).order_by(Campaign.id)))
        db.session.commit()
    drifts: list[Drift] = []
    for ident in ids:
        drifts += reconcile_campaign(ident)
    return drifts
