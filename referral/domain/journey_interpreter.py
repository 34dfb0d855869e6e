"""What an enrolment does next: a pure function of the definition, where the enrolment
stands, the time, what we know about the customer and the events seen since it entered.

:func:`decide` walks through the steps that take no effect (a branch, a wait whose time
has come, a ``wait_for`` whose event arrived or whose time ran out) and stops at the first
thing the runner must do: run an effect (send, grant, tag, untag, webhook), sleep until a
moment, wait for an event until a deadline, or finish. The runner applies it, records it
in the step log and, after an effect, calls again from :meth:`Run.then`.

Time is counted from when a step was due, not from when a runner got to it: the step after
a one-day wait starts when the day was over, an event that ends a ``wait_for`` starts the
next step at its own time, and a timeout at the deadline. So the path an enrolment takes
does not depend on how late a runner is, and reruns decide the same. See docs/JOURNEYS.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from referral.domain.errors import N_, Conflict
from referral.domain.journey_conditions import Facts, case_holds
from referral.domain.journey_dates import next_local_time
from referral.domain.journeys import (
    Branch,
    Definition,
    Effect,
    Exit,
    Goal,
    Step,
    Wait,
    WaitFor,
)

# A definition that passed validation never comes near this; it bounds one call all the
# same (a one-minute wait in a loop of branches, run after a long outage).
MOVES_MAX = 10_000
LOOPS = N_("The journey loops without a wait at step %(step)s.")
TOO_MANY_MOVES = N_("The journey took more than %(max)s steps at once at step %(step)s.")


@dataclass(frozen=True)
class SeenEvent:
    """An event of the customer's, recorded at ``at``."""

    kind: str
    at: datetime


@dataclass(frozen=True)
class Position:
    """The step an enrolment is at and the moment it arrived there."""

    step: str
    since: datetime


@dataclass(frozen=True)
class Run:
    """Apply ``step`` now; afterwards the enrolment is at :meth:`then`."""

    step: Effect

    def then(self, now: datetime) -> Position:
        return Position(self.step.next, now)


@dataclass(frozen=True)
class Sleep:
    until: datetime


@dataclass(frozen=True)
class Await:
    """Wake when ``event`` is recorded, or at ``deadline`` for the timeout."""

    event: str
    deadline: datetime


@dataclass(frozen=True)
class Done:
    """Finished: ``exit`` (an exit step) or ``goal`` (the goal was reached)."""

    reason: str


Action = Run | Sleep | Await | Done


@dataclass(frozen=True)
class Passed:
    """A step gone through without an effect, for the step log: ``branch:<n>`` (the n-th
    case, from 1) or ``branch:else``, ``waited``, ``received``, ``timeout``."""

    step: str
    outcome: str
    at: datetime


@dataclass(frozen=True)
class Decision:
    """``action`` for the enrolment, which now stands at ``position`` (the step the action
    belongs to), after going through ``passed``."""

    position: Position
    action: Action
    passed: tuple[Passed, ...] = ()


@dataclass(frozen=True)
class Move:
    to: Position
    outcome: str


def start(definition: Definition, entered_at: datetime) -> Position:
    """Where a new enrolment stands: at the first step, since it entered."""
    return Position(definition.start, entered_at)


def goal_reached(
    goal: Goal | None, events: Iterable[SeenEvent], entered_at: datetime, now: datetime
) -> bool:
    """Whether the goal event happened after entering, within the goal's days, by ``now``."""
    if goal is None:
        return False
    end = min(now, entered_at + timedelta(days=goal.days))
    return any(e.kind == goal.event and entered_at < e.at <= end for e in events)


def decide(
    definition: Definition,
    position: Position,
    *,
    now: datetime,
    entered_at: datetime,
    facts: Facts,
    events: Sequence[SeenEvent] = (),
) -> Decision:
    """The next thing to do for an enrolment at ``position``.

    :raise Conflict: when the definition loops without letting time pass (one that was
        never validated) or takes more than ``MOVES_MAX`` steps in one call.
    :raise KeyError: when ``position`` names a step the definition does not hold.
    """
    if goal_reached(definition.goal, events, entered_at, now):
        return Decision(position, Done("goal"))
    passed: list[Passed] = []
    visited: set[tuple[str, datetime]] = set()
    while True:
        if (position.step, position.since) in visited:
            raise Conflict(LOOPS, params={"step": position.step})
        if len(passed) >= MOVES_MAX:
            raise Conflict(TOO_MANY_MOVES, params={"step": position.step, "max": MOVES_MAX})
        visited.add((position.step, position.since))
        found = visit(definition.step(position.step), position, now, facts, events)
        if not isinstance(found, Move):
            return Decision(position, found, tuple(passed))
        passed.append(Passed(position.step, found.outcome, found.to.since))
        position = found.to


def visit(
    step: Step, position: Position, now: datetime, facts: Facts, events: Sequence[SeenEvent]
) -> Action | Move:
    """What one step does for an enrolment that arrived at it at ``position.since``."""
    if isinstance(step, Exit):
        return Done("exit")
    if isinstance(step, Branch):
        return choose(step, position.since, facts)
    if isinstance(step, Wait):
        due = wait_due(step, position.since, facts)
        return Move(Position(step.next, due), "waited") if due <= now else Sleep(due)
    if isinstance(step, WaitFor):
        return wait_for(step, position.since, now, events)
    return Run(step)


def choose(step: Branch, since: datetime, facts: Facts) -> Move:
    for number, case in enumerate(step.cases, start=1):
        if case_holds(case, facts):
            return Move(Position(case.next, since), f"branch:{number}")
    return Move(Position(step.otherwise, since), "branch:else")


def wait_due(step: Wait, since: datetime, facts: Facts) -> datetime:
    """When a wait that started at ``since`` is over, in the customer's time zone."""
    if step.duration is not None:
        return since + step.duration.delta
    assert step.at is not None
    return next_local_time(since, facts.zone, step.at, step.weekdays)


def wait_for(
    step: WaitFor, since: datetime, now: datetime, events: Sequence[SeenEvent]
) -> Action | Move:
    """The first ``step.event`` after ``since`` and by the deadline moves on; without one,
    the deadline moves to the timeout branch once it has passed."""
    deadline = since + step.timeout.delta
    arrived = [e.at for e in events if e.kind == step.event and since < e.at <= min(now, deadline)]
    if arrived:
        return Move(Position(step.next, min(arrived)), "received")
    if deadline <= now:
        return Move(Position(step.on_timeout, deadline), "timeout")
    return Await(step.event, deadline)
