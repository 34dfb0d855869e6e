"""Figures of a journey and of its steps, and a customer's journey timeline, read from the
enrolments and the step log.

Per journey: ``entered`` (enrolments), ``in_progress`` (active or waiting), ``done``,
``exited``, ``goal_reached`` and ``conversion_rate`` (goal reached ÷ entered, 0 when nobody
entered), ``sent`` and ``skipped`` by reason over every step. Per step, in the order of the
current definition (steps only older versions have come after): ``reached`` (enrolments
that were at the step at some time), ``waiting`` (those standing there now), ``sent``,
``skipped`` and ``deferred`` by reason, and every ``outcomes`` count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal_column, select, union

from referral.extensions import db
from referral.models.journey import Journey, JourneyEnrolment, JourneyStepLog

UNFINISHED = ("active", "waiting")
TIMELINE_MAX = 200


def journey_stats(journey: Journey) -> dict[str, Any]:
    """The journey's figures and its steps' (see the module's docstring)."""
    statuses, goals = _statuses(journey.id)
    entered = sum(statuses.values())
    steps = _steps(journey)
    skipped: dict[str, int] = {}
    for step in steps:
        for reason, count in step["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
    return {
        "entered": entered,
        "in_progress": statuses.get("active", 0) + statuses.get("waiting", 0),
        "done": statuses.get("done", 0),
        "exited": statuses.get("exited", 0),
        "goal_reached": goals,
        "conversion_rate": round(goals / entered, 4) if entered else 0.0,
        "sent": sum(step["sent"] for step in steps),
        "skipped": dict(sorted(skipped.items())),
        "steps": steps,
    }


def _statuses(journey_id: int) -> tuple[dict[str, int], int]:
    rows = db.session.execute(
        select(
            JourneyEnrolment.status,
            func.count(),
            func.count(JourneyEnrolment.goal_reached_at),
        )
        .where(JourneyEnrolment.journey_id == journey_id)
        .group_by(JourneyEnrolment.status)
    ).all()
    return {status: count for status, count, _g in rows}, sum(g for _s, _c, g in rows)


def _steps(journey: Journey) -> list[dict[str, Any]]:
    reached = _reached(journey.id)
    waiting = dict(
        db.session.execute(
            select(JourneyEnrolment.step, func.count())
            .where(
                JourneyEnrolment.journey_id == journey.id,
                JourneyEnrolment.status.in_(UNFINISHED),
            )
            .group_by(JourneyEnrolment.step)
        ).all()
    )
    outcomes: dict[str, dict[str, int]] = {}
    for step, outcome, count in db.session.execute(
        select(JourneyStepLog.step, JourneyStepLog.outcome, func.count())
        .where(JourneyStepLog.journey_id == journey.id)
        .group_by(JourneyStepLog.step, JourneyStepLog.outcome)
    ):
        outcomes.setdefault(step, {})[outcome] = count
    types = {s["id"]: s.get("type") for s in journey.definition.get("steps", []) if "id" in s}
    order = list(dict.fromkeys([*types, *reached, *outcomes]))
    return [
        _step(step, types.get(step), reached, waiting, outcomes.get(step, {})) for step in order
    ]


def _reached(journey_id: int) -> dict[str, int]:
    """Distinct enrolments per step: every step they left a log line at, and where they
    stand now."""
    logged = select(JourneyStepLog.step, JourneyStepLog.enrolment_id.label("enrolment")).where(
        JourneyStepLog.journey_id == journey_id
    )
    standing = select(JourneyEnrolment.step, JourneyEnrolment.id.label("enrolment")).where(
        JourneyEnrolment.journey_id == journey_id
    )
    both = union(logged, standing).subquery()
    rows = db.session.execute(
        select(both.c.step, func.count(literal_column("*"))).group_by(both.c.step)
    ).all()
    return {step: count for step, count in rows}


def _step(
    step: str,
    kind: str | None,
    reached: dict[str, int],
    waiting: dict[str, int],
    outcomes: dict[str, int],
) -> dict[str, Any]:
    def by_reason(prefix: str) -> dict[str, int]:
        return {
            outcome.partition(":")[2]: count
            for outcome, count in sorted(outcomes.items())
            if outcome.startswith(prefix + ":")
        }

    return {
        "id": step,
        "type": kind,
        "reached": reached.get(step, 0),
        "waiting": waiting.get(step, 0),
        "sent": outcomes.get("sent", 0),
        "skipped": by_reason("skipped"),
        "deferred": by_reason("deferred"),
        "outcomes": dict(sorted(outcomes.items())),
    }


def customer_timeline(customer_id: int, limit: int = TIMELINE_MAX) -> list[dict[str, Any]]:
    """The customer's journey steps, newest first: which journey, step and visit, what
    happened (``sent``, ``skipped:no_consent`` …) with its detail, and when."""
    rows = db.session.execute(
        select(JourneyStepLog, Journey.name)
        .join(Journey, Journey.id == JourneyStepLog.journey_id)
        .where(JourneyStepLog.customer_id == customer_id)
        .order_by(JourneyStepLog.at.desc(), JourneyStepLog.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "journey_id": entry.journey_id,
            "journey": name,
            "enrolment_id": entry.enrolment_id,
            "step": entry.step,
            "visit": entry.visit,
            "outcome": entry.outcome,
            "detail": entry.detail,
            "at": entry.at,
        }
        for entry, name in rows
    ]
