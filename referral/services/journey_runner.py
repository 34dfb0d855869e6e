"""The journey runner: claims the enrolments that are due and walks each one through its
steps until the next wait.

1. **Claim.** A batch of due enrolments of running journeys gets a lease
   (``claimed_until``): on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, so runners
   side by side take different rows; on SQLite with a conditional ``UPDATE … WHERE id = ?
   AND (claimed_until IS NULL OR claimed_until < now)`` per row, so only one runner's update
   takes each row. A runner that dies leaves its lease to run out, and the row is due again.
2. **Advance.** Each enrolment then runs in one transaction of its own, which first takes
   the row again by its lease (a runner whose lease ran out and was taken over stops
   there): the interpreter (``domain.journey_interpreter.decide``) says what to do, the
   runner applies it (``services.journey_effects``), logs every step with its outcome and
   asks again, until the enrolment sleeps, waits for an event or finishes. The outbox row,
   the log lines and the new position are committed together, so a step runs once.

Statuses: ``active`` (sleeping or due), ``waiting`` (for an event, until a deadline),
``done`` (an exit step or the goal), ``exited`` (ended early: the customer was erased, or
the definition could not be followed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from referral.domain.errors import Conflict
from referral.domain.journey_interpreter import (
    Action,
    Await,
    Decision,
    Done,
    Position,
    Run,
    SeenEvent,
    Sleep,
    decide,
)
from referral.domain.journeys import Definition, Grant, Tag, Untag
from referral.extensions import db
from referral.models.base import utcnow
from referral.models.journey import Journey, JourneyEnrolment, JourneyStepLog
from referral.services import journey_effects
from referral.services.journey_facts import (
    Subject,
    points_of,
    seen_events,
    subject_of,
    tags_of,
)
from referral.services.journeys import definition_of
from referral.services.tx import atomic, retry_on_contention

log = logging.getLogger("referral.journeys")
LEASE = timedelta(minutes=2)
BATCH = 200
# Effects one enrolment may take in one go; a valid definition takes at most one per step
# before it must wait, so this only bounds a very long straight run (it goes on next time).
EFFECTS_MAX = 100
UNFINISHED = ("active", "waiting")


def run_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Advance up to ``limit`` due enrolments; returns how many were advanced. Safe to run
    from several workers at once: a step is never run twice."""
    now = now or utcnow()
    lease = now + LEASE
    advanced = 0
    for ident in claim_due(now, lease, limit):
        try:
            advanced += advance(ident, now, lease)
        except Exception:  # noqa: BLE001 (the lease runs out and the enrolment is retried)
            log.exception("journey enrolment %s could not advance", ident)
    return advanced


def _due(now: datetime, limit: int) -> Any:
    return (
        select(JourneyEnrolment.id)
        .join(Journey, Journey.id == JourneyEnrolment.journey_id)
        .where(
            JourneyEnrolment.next_run_at <= now,
            JourneyEnrolment.status.in_(UNFINISHED),
            Journey.status == "running",
            or_(JourneyEnrolment.claimed_until.is_(None), JourneyEnrolment.claimed_until < now),
        )
        .order_by(JourneyEnrolment.next_run_at, JourneyEnrolment.id)
        .limit(limit)
    )


@retry_on_contention
def claim_due(now: datetime, lease: datetime, limit: int) -> list[int]:
    """Lease up to ``limit`` due enrolments until ``lease``; the ids this runner took."""
    if db.session.get_bind().dialect.name == "postgresql":
        locked = _due(now, limit).with_for_update(skip_locked=True, of=JourneyEnrolment)
        ids = list(db.session.scalars(locked))
        if ids:
            db.session.execute(
                update(JourneyEnrolment)
                .where(JourneyEnrolment.id.in_(ids))
                .values(claimed_until=lease)
                .execution_options(synchronize_session=False)
            )
    else:
        ids = [ident for ident in db.session.scalars(_due(now, limit)) if _claim(ident, now, lease)]
    db.session.commit()
    return ids


def _claim(ident: int, now: datetime, lease: datetime) -> bool:
    free = or_(JourneyEnrolment.claimed_until.is_(None), JourneyEnrolment.claimed_until < now)
    return bool(
        db.session.execute(
            update(JourneyEnrolment)
            .where(JourneyEnrolment.id == ident, free, JourneyEnrolment.next_run_at <= now)
            .values(claimed_until=lease)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


@atomic
def advance(ident: int, now: datetime, lease: datetime) -> bool:
    """Walk one claimed enrolment until its next wait, in one transaction; False when the
    lease was lost (another runner took the row over) or the journey no longer runs."""
    kept = db.session.execute(
        update(JourneyEnrolment)
        .where(JourneyEnrolment.id == ident, JourneyEnrolment.claimed_until == lease)
        .values(claimed_until=lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not kept:
        return False
    enrolment = db.session.get(JourneyEnrolment, ident, populate_existing=True)
    assert enrolment is not None
    enrolment.claimed_until = None
    journey = db.session.get(Journey, enrolment.journey_id)
    if journey is None or journey.status != "running":
        return False
    definition = definition_of(journey.id, enrolment.version)
    subject = subject_of(enrolment)
    Walk(enrolment, journey, definition, subject, seen_events(enrolment, definition), now).run()
    return True


@dataclass
class Walk:
    """One enrolment being advanced at ``now``."""

    enrolment: JourneyEnrolment
    journey: Journey
    definition: Definition
    subject: Subject
    events: list[SeenEvent]
    now: datetime

    def run(self) -> None:
        enrolment = self.enrolment
        if self.subject.customer.erased_at is not None:
            self.finish("exited", "exit", {"reason": "erased"})
            return
        for _ in range(EFFECTS_MAX):
            try:
                decision = self.decide()
            except (Conflict, KeyError) as error:
                self.finish("exited", "exit", {"reason": "invalid", "error": str(error)[:200]})
                return
            self.pass_through(decision)
            action = decision.action
            if not isinstance(action, Run):
                self.stop(action)
                return
            visit = enrolment.visits.get(action.step.id, 1)
            outcome = journey_effects.apply(self, action.step, visit)
            self.log(action.step.id, outcome.outcome, outcome.detail)
            if outcome.retry_at is not None:
                self.schedule("active", outcome.retry_at)
                return
            self.after_effect(action.step)
            self.arrive(action.then(self.now))
        self.schedule("active", self.now)

    def decide(self) -> Decision:
        enrolment = self.enrolment
        return decide(
            self.definition,
            Position(enrolment.step, enrolment.step_since),
            now=self.now,
            entered_at=enrolment.entered_at,
            facts=self.subject.facts,
            events=self.events,
        )

    def pass_through(self, decision: Decision) -> None:
        """Log the steps the interpreter went through and stand where it stopped."""
        passed = decision.passed
        for index, step in enumerate(passed):
            self.log(step.step, step.outcome, {}, step.at)
            following = passed[index + 1].step if index + 1 < len(passed) else None
            self.arrive(Position(following or decision.position.step, step.at))
        self.enrolment.step = decision.position.step
        self.enrolment.step_since = decision.position.since

    def arrive(self, position: Position) -> None:
        """Stand at a step: a new visit of it."""
        enrolment = self.enrolment
        enrolment.step, enrolment.step_since = position.step, position.since
        visits = dict(enrolment.visits or {})
        visits[position.step] = visits.get(position.step, 0) + 1
        enrolment.visits = visits

    def after_effect(self, step: Any) -> None:
        """A tag changed or points were granted: later branches of this walk see it."""
        customer, facts = self.subject.customer, self.subject.facts
        if isinstance(step, Tag | Untag):
            facts = replace(facts, tags=tags_of(customer.id))
        elif isinstance(step, Grant):
            facts = replace(facts, points=points_of(customer.id, self.subject.participation))
        self.subject = replace(self.subject, facts=facts)

    def stop(self, action: Action) -> None:
        if isinstance(action, Sleep):
            self.schedule("active", action.until)
        elif isinstance(action, Await):
            self.schedule("waiting", action.deadline, action.event)
        else:
            assert isinstance(action, Done)
            detail = {"event": self.definition.goal.event} if self.definition.goal else {}
            self.finish("done", action.reason, detail if action.reason == "goal" else {})

    def schedule(self, status: str, at: datetime, waiting_for: str | None = None) -> None:
        enrolment = self.enrolment
        enrolment.status, enrolment.next_run_at = status, at
        enrolment.waiting_for = waiting_for
        enrolment.wait_deadline = at if waiting_for else None

    def finish(self, status: str, outcome: str, detail: dict[str, Any]) -> None:
        enrolment = self.enrolment
        self.log(enrolment.step, outcome, detail)
        self.schedule(status, self.now)
        enrolment.next_run_at = None
        enrolment.finished_at = self.now
        if outcome == "goal":
            enrolment.goal_reached_at = self._goal_at()

    def _goal_at(self) -> datetime:
        goal = self.definition.goal
        entered = self.enrolment.entered_at
        times = [e.at for e in self.events if goal and e.kind == goal.event and e.at > entered]
        return min(times, default=self.now)

    def log(
        self, step: str, outcome: str, detail: dict[str, Any], at: datetime | None = None
    ) -> None:
        enrolment = self.enrolment
        db.session.add(
            JourneyStepLog(
                enrolment_id=enrolment.id,
                journey_id=enrolment.journey_id,
                customer_id=enrolment.customer_id,
                step=step,
                visit=(enrolment.visits or {}).get(step, 1),
                outcome=outcome[:48],
                detail=detail,
                at=at or self.now,
            )
        )
