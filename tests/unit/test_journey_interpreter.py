"""What an enrolment does next (``domain.journey_interpreter.decide``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from referral.domain.errors import Conflict
from referral.domain.journey_conditions import Facts
from referral.domain.journey_interpreter import (
    Await,
    Decision,
    Done,
    Passed,
    Position,
    Run,
    SeenEvent,
    Sleep,
    decide,
    goal_reached,
    start,
)
from referral.domain.journey_parsing import parse_definition
from referral.domain.journeys import (
    Branch,
    Case,
    Condition,
    Definition,
    EventTrigger,
    Exit,
    Goal,
    Send,
)

ENTERED = datetime(2027, 6, 1, 10, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
AUCKLAND = ZoneInfo("Pacific/Auckland")
EXIT = {"id": "end", "type": "exit"}


def definition(*steps: dict[str, Any], **extra: Any) -> Definition:
    return parse_definition(
        {"trigger": {"type": "event", "event": "signup_confirmed"}, "steps": list(steps), **extra}
    )


def run(
    journey: Definition,
    position: Position | None = None,
    *,
    now: datetime = ENTERED,
    facts: Facts | None = None,
    events: tuple[SeenEvent, ...] = (),
) -> Decision:
    return decide(
        journey,
        position or start(journey, ENTERED),
        now=now,
        entered_at=ENTERED,
        facts=facts or Facts(zone=AMSTERDAM),
        events=events,
    )


WELCOME = definition(
    {"id": "welcome", "type": "send", "template": "welcome"},
    {"id": "pause", "type": "wait", "for": {"days": 2}},
    {"id": "tips", "type": "send", "template": "tips"},
    EXIT,
)


def test_a_new_enrolment_starts_at_the_first_step_when_it_entered() -> None:
    assert start(WELCOME, ENTERED) == Position("welcome", ENTERED)


def test_a_send_step_is_run_now_and_then_the_enrolment_moves_on() -> None:
    decision = run(WELCOME)
    welcome = Send("welcome", "pause", "welcome")
    assert decision == Decision(Position("welcome", ENTERED), Run(welcome))
    assert isinstance(decision.action, Run)
    assert decision.action.step.type == "send"
    later = ENTERED + timedelta(seconds=3)
    assert decision.action.then(later) == Position("pause", later)


def test_a_wait_that_has_not_passed_sleeps_until_it_has() -> None:
    decision = run(WELCOME, Position("pause", ENTERED), now=ENTERED + timedelta(hours=1))
    assert decision == Decision(Position("pause", ENTERED), Sleep(ENTERED + timedelta(days=2)))


def test_a_wait_that_has_passed_moves_on_from_when_it_was_due() -> None:
    """The runner came an hour late: the next step still counts from the due time."""
    due = ENTERED + timedelta(days=2)
    decision = run(WELCOME, Position("pause", ENTERED), now=due + timedelta(hours=1))
    assert decision.passed == (Passed("pause", "waited", due),)
    assert decision.position == Position("tips", due)
    assert isinstance(decision.action, Run) and decision.action.step.id == "tips"


def test_how_late_the_runner_is_does_not_change_the_path() -> None:
    journey = definition(
        {"id": "a", "type": "wait", "for": {"hours": 1}},
        {"id": "b", "type": "wait", "for": {"hours": 1}},
        {"id": "c", "type": "wait", "for": {"hours": 1}},
        {"id": "s", "type": "send", "template": "x"},
        EXIT,
    )
    early = run(journey, now=ENTERED + timedelta(hours=3))
    late = run(journey, now=ENTERED + timedelta(days=9))
    assert early == late
    assert [p.at for p in early.passed] == [ENTERED + timedelta(hours=h) for h in (1, 2, 3)]


def test_wait_until_nine_sleeps_until_nine_on_the_customer_s_clock() -> None:
    journey = definition({"id": "w", "type": "wait", "until": {"time": "09:00"}}, EXIT)
    auckland = run(journey, facts=Facts(zone=AUCKLAND))
    amsterdam = run(journey, facts=Facts(zone=AMSTERDAM))
    # 10:00 UTC is 22:00 in Auckland (NZST) and 12:00 in Amsterdam (CEST).
    assert auckland.action == Sleep(datetime(2027, 6, 1, 21, tzinfo=UTC))
    assert amsterdam.action == Sleep(datetime(2027, 6, 2, 7, tzinfo=UTC))


def test_wait_until_a_weekday_skips_the_weekend() -> None:
    journey = definition(
        {"id": "w", "type": "wait", "until": {"time": "09:00", "weekdays": ["mon"]}}, EXIT
    )
    friday = datetime(2027, 6, 4, 10, tzinfo=UTC)
    decision = run(journey, Position("w", friday), now=friday)
    assert decision.action == Sleep(datetime(2027, 6, 7, 7, tzinfo=UTC))


PURCHASE = definition(
    {"id": "ask", "type": "send", "template": "offer"},
    {
        "id": "f",
        "type": "wait_for",
        "event": "purchase",
        "timeout": {"days": 3},
        "next": "thanks",
        "on_timeout": "nudge",
    },
    {"id": "thanks", "type": "send", "template": "thanks", "next": "end"},
    {"id": "nudge", "type": "send", "template": "nudge"},
    EXIT,
)


def test_wait_for_waits_for_the_event_until_its_deadline() -> None:
    decision = run(PURCHASE, Position("f", ENTERED), now=ENTERED + timedelta(hours=5))
    assert decision.action == Await("purchase", ENTERED + timedelta(days=3))


def test_the_event_moves_on_from_the_moment_it_happened() -> None:
    bought = ENTERED + timedelta(days=1)
    decision = run(
        PURCHASE,
        Position("f", ENTERED),
        now=bought + timedelta(seconds=2),
        events=(SeenEvent("purchase", bought),),
    )
    assert decision.passed == (Passed("f", "received", bought),)
    assert isinstance(decision.action, Run) and decision.action.step.id == "thanks"


def test_an_event_before_the_step_started_does_not_count() -> None:
    decision = run(
        PURCHASE,
        Position("f", ENTERED),
        now=ENTERED + timedelta(hours=1),
        events=(SeenEvent("purchase", ENTERED), SeenEvent("purchase", ENTERED - timedelta(1))),
    )
    assert isinstance(decision.action, Await)


def test_other_kinds_of_event_do_not_count() -> None:
    decision = run(
        PURCHASE,
        Position("f", ENTERED),
        now=ENTERED + timedelta(hours=1),
        events=(SeenEvent("refund", ENTERED + timedelta(minutes=5)),),
    )
    assert isinstance(decision.action, Await)


def test_without_the_event_the_timeout_branch_starts_at_the_deadline() -> None:
    deadline = ENTERED + timedelta(days=3)
    decision = run(
        PURCHASE,
        Position("f", ENTERED),
        now=deadline + timedelta(days=1),
        events=(SeenEvent("purchase", deadline + timedelta(hours=1)),),  # too late
    )
    assert decision.passed == (Passed("f", "timeout", deadline),)
    assert decision.position == Position("nudge", deadline)


SURVEY = definition(
    {
        "id": "score",
        "type": "branch",
        "cases": [
            {
                "when": [{"on": "survey", "question": "nps", "op": "gte", "value": 9}],
                "next": "promoter",
            },
            {
                "when": [{"on": "survey", "question": "nps", "op": "lte", "value": 6}],
                "next": "detractor",
            },
        ],
        "else": "end",
    },
    {"id": "promoter", "type": "send", "template": "ask_for_review", "next": "end"},
    {"id": "detractor", "type": "send", "template": "sorry", "next": "end"},
    EXIT,
)


@pytest.mark.parametrize(
    ("nps", "outcome", "then"),
    [(10, "branch:1", "promoter"), (3, "branch:2", "detractor"), (7, "branch:else", "end")],
)
def test_a_branch_takes_the_first_case_that_holds(nps: int, outcome: str, then: str) -> None:
    decision = run(SURVEY, facts=Facts(answers={"nps": nps}))
    assert decision.passed == (Passed("score", outcome, ENTERED),)
    assert decision.position.step == then


def test_the_else_branch_leads_to_the_exit() -> None:
    decision = run(SURVEY, facts=Facts(answers={"nps": 7}))
    assert decision.action == Done("exit")


def test_an_exit_is_done() -> None:
    assert run(WELCOME, Position("end", ENTERED)).action == Done("exit")


GOAL = definition(
    {"id": "pause", "type": "wait", "for": {"days": 5}},
    {"id": "nudge", "type": "send", "template": "nudge"},
    EXIT,
    goal={"event": "purchase", "within_days": 7},
)


def test_reaching_the_goal_ends_the_journey_wherever_it_stands() -> None:
    bought = ENTERED + timedelta(days=1)
    decision = run(
        GOAL, Position("pause", ENTERED), now=bought, events=(SeenEvent("purchase", bought),)
    )
    assert decision == Decision(Position("pause", ENTERED), Done("goal"))


def test_a_goal_after_its_days_does_not_count() -> None:
    late = ENTERED + timedelta(days=8)
    decision = run(
        GOAL, Position("nudge", ENTERED), now=late, events=(SeenEvent("purchase", late),)
    )
    assert isinstance(decision.action, Run)


def test_the_event_that_started_the_journey_is_not_its_goal() -> None:
    assert not goal_reached(Goal("purchase", 7), [SeenEvent("purchase", ENTERED)], ENTERED, ENTERED)


def test_no_goal_is_never_reached() -> None:
    assert not goal_reached(None, [SeenEvent("purchase", ENTERED + timedelta(1))], ENTERED, ENTERED)


def test_a_goal_event_from_the_future_is_not_counted_yet() -> None:
    soon = ENTERED + timedelta(hours=1)
    assert not goal_reached(Goal("purchase", 7), [SeenEvent("purchase", soon)], ENTERED, ENTERED)


def test_a_definition_that_was_never_validated_cannot_loop_forever() -> None:
    """A branch to itself passes validation never; built by hand, it stops with a Conflict."""
    loop = Branch("b", (Case((Condition("points", "gte", 0),), "b"),), "end")
    journey = Definition(EventTrigger("purchase"), (loop, Exit("end")))
    with pytest.raises(Conflict) as stopped:
        run(journey, facts=Facts(points=1))
    assert stopped.value.message == "The journey loops without a wait at step b."


def test_an_unknown_step_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        run(WELCOME, Position("gone", ENTERED))


def test_effects_stop_the_walk_even_after_many_passed_steps() -> None:
    decision = run(SURVEY, facts=Facts(answers={"nps": 10}))
    assert decision.action == Run(Send("promoter", "end", "ask_for_review"))
