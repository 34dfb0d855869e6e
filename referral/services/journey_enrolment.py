"""Entering journeys: when an event is recorded, when a tag is added, and (from the sweep)
on birthdays, joining anniversaries and after a silence.

Every entry is an ``INSERT … ON CONFLICT DO NOTHING`` on UNIQUE(journey, customer,
entry_key), the re-entry policy: a customer enters a ``once`` journey once, a ``yearly`` one
once per occasion, an ``every_time`` one once per event, whatever retries or concurrent
transactions do. Entering writes nothing but the enrolment and its first log line; the
runner (``services.journey_runner``) takes the steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from referral.domain.journeys import Definition, entry_key, triggered_by
from referral.extensions import db
from referral.models import Customer, Event, Participation
from referral.models.base import utcnow
from referral.models.journey import Journey, JourneyEnrolment, JourneyStepLog
from referral.services import memo, wakeups
from referral.services.journeys import parsed
from referral.services.rows import insert_once

memo.watch(Journey)

UNFINISHED = ("active", "waiting")
STARTED = ("running", "paused")
ENTRY = ("journey_id", "customer_id", "entry_key")


def enter(
    journey: Journey,
    definition: Definition,
    customer_id: int,
    key: str,
    at: datetime,
    *,
    participation_id: int | None = None,
    campaign_id: int | None = None,
) -> int | None:
    """Enrol the customer at the journey's first step, on its current version; None when
    the re-entry policy has them in already (same ``key``)."""
    values = enrolment_values(journey, definition, customer_id, key, at)
    values["participation_id"] = participation_id
    values["campaign_id"] = campaign_id or journey.campaign_id
    ident = insert_once(JourneyEnrolment, values, ENTRY)
    if ident is not None:
        db.session.add(_entered(journey, ident, customer_id, definition.start, key, at))
    return ident


def enrolment_values(
    journey: Journey, definition: Definition, customer_id: int, key: str, at: datetime
) -> dict[str, Any]:
    """A new enrolment's columns: at the first step since ``at``, due at once."""
    start = definition.start
    return {
        "journey_id": journey.id,
        "version": journey.version,
        "customer_id": customer_id,
        "entry_key": key,
        "step": start,
        "step_since": at,
        "visits": {start: 1},
        "status": "active",
        "next_run_at": at,
        "goal_event": definition.goal.event if definition.goal else None,
        "entered_at": at,
    }


def _entered(
    journey: Journey, ident: int, customer_id: int, start: str, key: str, at: datetime
) -> JourneyStepLog:
    """The enrolment's first log line, ``entered`` (the journey's figures count it)."""
    return JourneyStepLog(
        enrolment_id=ident,
        journey_id=journey.id,
        customer_id=customer_id,
        step=start,
        visit=1,
        outcome="entered",
        detail={"version": journey.version, "entry_key": key},
        at=at,
    )


def running_journeys(workspace_id: int | None, kind: str) -> list[Journey]:
    """The running journeys started by ``kind`` (in one workspace, or in all)."""
    if workspace_id is not None:
        return [
            journey
            for journey in started_journeys(workspace_id)
            if journey.status == "running" and journey.trigger_kind == kind
        ]
    query = select(Journey).where(Journey.trigger_kind == kind, Journey.status == "running")
    return list(db.session.scalars(query.order_by(Journey.id)))


def started_journeys(workspace_id: int) -> list[Journey]:
    """The workspace's running and paused journeys (a journey never returns to draft, so
    only theirs can hold unfinished enrolments), read once per transaction and kept while
    the configuration is unchanged (``memo.shared``)."""
    return memo.shared(
        ("journeys", workspace_id),
        lambda: list(db.session.scalars(_STARTED, {"workspace_id": workspace_id})),
        rows=Journey,
    )


_STARTED = (
    select(Journey)
    .where(Journey.workspace_id == bindparam("workspace_id"), Journey.status.in_(STARTED))
    .order_by(Journey.id)
)


def participation_in(customer_id: int, campaign_id: int | None) -> int | None:
    if campaign_id is None:
        return None
    return db.session.scalar(
        select(Participation.id).where(
            Participation.customer_id == customer_id, Participation.campaign_id == campaign_id
        )
    )


def enrol_for_event(event: Event, now: datetime | None = None) -> list[int]:
    """Enrol the event's customer in every running journey of the workspace that the event
    starts (its kind; a journey of one campaign only for that campaign's events), and wake
    their enrolments that wait for this kind or count it as their goal.

    Called in the transaction that records the event (no commit), so an enrolment exists
    exactly when its event does. Returns the ids of the new enrolments; the caller wakes the
    runner once the transaction commits (``services.wakeups``).
    """
    now = now or utcnow()
    if not started_journeys(event.workspace_id):
        return []  # nothing to enter, and no enrolment waits for anything
    wake(event.customer_id, event.kind, now)
    entered = []
    for journey in running_journeys(event.workspace_id, event.kind):
        if journey.campaign_id is not None and journey.campaign_id != event.campaign_id:
            continue
        definition = parsed(journey.definition)
        if not triggered_by(definition.trigger, event.kind):
            continue
        if event.id is None:
            db.session.flush()  # the event's id is part of an every_time entry key
        campaign_id = event.campaign_id or journey.campaign_id
        participation_id = event.participation_id or participation_in(
            event.customer_id, campaign_id
        )
        key = entry_key(definition.reentry, event_id=event.id, on=now.date())
        ident = enter(
            journey,
            definition,
            event.customer_id,
            key,
            now,
            participation_id=participation_id,
            campaign_id=campaign_id,
        )
        if ident is not None:
            entered.append(ident)
    if entered:
        wakeups.due("journeys")
    return entered


def enrol_for_tag(customer: Customer, tag: str, now: datetime | None = None) -> list[int]:
    """Enrol the customer in the running journeys that start when ``tag`` is added (an
    ``every_time`` journey once a day: a tag carries no event id)."""
    now = now or utcnow()
    entered = []
    for journey in running_journeys(customer.workspace_id, "tag_added"):
        definition = parsed(journey.definition)
        if not triggered_by(definition.trigger, "tag_added", tag):
            continue
        participation_id = participation_in(customer.id, journey.campaign_id)
        if journey.campaign_id is not None and participation_id is None:
            continue
        key = entry_key(definition.reentry, on=now.date())
        ident = enter(journey, definition, customer.id, key, now, participation_id=participation_id)
        if ident is not None:
            entered.append(ident)
    if entered:
        wakeups.due("journeys")
    return entered


def wake(customer_id: int, kind: str, now: datetime) -> int:
    """Make the customer's unfinished enrolments that wait for ``kind`` (or have it as their
    goal) due now; returns how many."""
    woken = db.session.execute(
        update(JourneyEnrolment)
        .where(
            JourneyEnrolment.customer_id == customer_id,
            JourneyEnrolment.status.in_(UNFINISHED),
            or_(JourneyEnrolment.waiting_for == kind, JourneyEnrolment.goal_event == kind),
            or_(JourneyEnrolment.next_run_at.is_(None), JourneyEnrolment.next_run_at > now),
        )
        .values(next_run_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if woken:
        wakeups.due("journeys")
    return woken
