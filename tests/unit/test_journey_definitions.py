"""Journey definitions (``domain.journey_parsing``): what is read, and every problem refused
at the step it concerns."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from referral.domain.consent_topics import BIRTHDAY, Cap
from referral.domain.errors import ValidationFailed
from referral.domain.journey_dates import QuietHours
from referral.domain.journey_parsing import Known, definition_problems, parse_definition
from referral.domain.journeys import (
    STEPS_MAX,
    Branch,
    Case,
    Condition,
    DateTrigger,
    Duration,
    EventTrigger,
    Exit,
    Goal,
    Grant,
    InactivityTrigger,
    Send,
    Tag,
    TagTrigger,
    Untag,
    Wait,
    WaitFor,
    Webhook,
    entry_key,
    triggered_by,
)

EXIT = {"id": "end", "type": "exit"}


def journey(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    trigger = extra.pop("trigger", {"type": "event", "event": "signup_confirmed"})
    return {"trigger": trigger, "steps": list(steps) or [EXIT], **extra}


def send(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "template": "welcome", **extra}


def problems(raw: object, known: Known | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in definition_problems(raw, known):
        found.setdefault(problem.where, []).append(problem.message.text)
    return found


# What is read.


def test_a_welcome_journey_is_read_with_its_defaults() -> None:
    definition = parse_definition(journey(send("welcome"), EXIT))
    assert definition.trigger == EventTrigger("signup_confirmed")
    assert definition.steps == (Send("welcome", "end", "welcome"), Exit("end"))
    assert definition.start == "welcome"
    assert definition.reentry == "once"
    assert definition.goal is None and definition.cap is None and definition.quiet_hours is None
    assert definition.holdout_percent == 0


def test_a_step_without_next_goes_to_the_one_after_it() -> None:
    definition = parse_definition(journey(send("a"), send("b"), EXIT))
    assert definition.steps == (Send("a", "b", "welcome"), Send("b", "end", "welcome"), Exit("end"))


def test_every_kind_of_step_is_read() -> None:
    steps: list[dict[str, Any]] = [
        {"id": "w", "type": "wait", "for": {"days": 1, "hours": 2}},
        {"id": "u", "type": "wait", "until": {"time": "09:30", "weekdays": ["mon", "fri"]}},
        {"id": "f", "type": "wait_for", "event": "purchase", "timeout": {"days": 3}},
        {
            "id": "b",
            "type": "branch",
            "cases": [{"when": [{"on": "points", "op": "gte", "value": 10}], "next": "s"}],
        },
        {"id": "s", "type": "send", "template": "coupon", "topic": "birthday"},
        {"id": "g", "type": "grant", "reward": "birthday_coupon"},
        {"id": "t", "type": "tag", "tag": "celebrated"},
        {"id": "x", "type": "untag", "tag": "new"},
        {"id": "h", "type": "webhook", "label": "crm"},
        EXIT,
    ]
    definition = parse_definition(journey(*steps))
    assert definition.steps == (
        Wait("w", "u", Duration(1, 2)),
        Wait("u", "f", at=time(9, 30), weekdays=frozenset({0, 4})),
        WaitFor("f", "b", "purchase", Duration(3), "b"),
        Branch("b", (Case((Condition("points", "gte", 10),), "s"),), "s"),
        Send("s", "g", "coupon", BIRTHDAY),
        Grant("g", "t", "birthday_coupon"),
        Tag("t", "x", "celebrated"),
        Untag("x", "h", "new"),
        Webhook("h", "end", "crm"),
        Exit("end"),
    )


def test_a_wait_until_a_time_without_weekdays_is_every_day() -> None:
    definition = parse_definition(
        journey({"id": "w", "type": "wait", "until": {"time": "09:00"}}, EXIT)
    )
    assert definition.steps[0] == Wait("w", "end", at=time(9), weekdays=frozenset(range(7)))


def test_wait_for_with_its_own_timeout_branch() -> None:
    steps = [
        {
            "id": "f",
            "type": "wait_for",
            "event": "purchase",
            "timeout": {"hours": 12},
            "next": "thanks",
            "on_timeout": "nudge",
        },
        send("nudge", next="end"),
        send("thanks"),
        EXIT,
    ]
    step = parse_definition(journey(*steps)).steps[0]
    assert step == WaitFor("f", "thanks", "purchase", Duration(hours=12), "nudge")


@pytest.mark.parametrize(
    ("trigger", "expected", "reentry"),
    [
        (
            {"type": "event", "event": "milestone_reached"},
            EventTrigger("milestone_reached"),
            "once",
        ),
        ({"type": "tag_added", "tag": "vip"}, TagTrigger("vip"), "once"),
        ({"type": "date", "date": "birthday"}, DateTrigger("birthday", 9), "yearly"),
        ({"type": "date", "date": "joined", "hour": 10}, DateTrigger("joined", 10), "yearly"),
        ({"type": "inactivity", "days": 30}, InactivityTrigger(30), "once"),
    ],
)
def test_every_trigger_is_read_with_its_default_reentry(
    trigger: dict[str, Any], expected: object, reentry: str
) -> None:
    definition = parse_definition(journey(trigger=trigger))
    assert definition.trigger == expected
    assert definition.reentry == reentry


def test_goal_cap_quiet_hours_and_holdout_are_read() -> None:
    definition = parse_definition(
        journey(
            goal={"event": "purchase", "within_days": 14},
            reentry="every_time",
            cap={"limit": 2, "days": 7},
            quiet_hours={"start": "21:00", "end": "08:00", "then": "skip"},
            holdout_percent=10,
        )
    )
    assert definition.goal == Goal("purchase", 14)
    assert definition.reentry == "every_time"
    assert definition.cap == Cap(2, 7)
    assert definition.quiet_hours == QuietHours(time(21), time(8), defer=False)
    assert definition.holdout_percent == 10


def test_quiet_hours_defer_unless_told_to_skip() -> None:
    definition = parse_definition(journey(quiet_hours={"start": "22:00", "end": "07:30"}))
    assert definition.quiet_hours == QuietHours(time(22), time(7, 30), defer=True)


def test_known_templates_and_rewards_are_accepted() -> None:
    raw = journey(send("s"), {"id": "g", "type": "grant", "reward": "coupon"}, EXIT)
    parse_definition(raw, templates={"welcome"}, rewards={"coupon"})


# Refused: the shape of the definition.


def test_a_definition_must_be_an_object() -> None:
    assert problems([]) == {"definition": ["definition must be an object."]}


def test_trigger_and_steps_are_required() -> None:
    assert problems({}) == {"definition": ["Give trigger.", "Give steps."]}


def test_an_unknown_top_level_field_is_refused() -> None:
    assert problems(journey(colour="red")) == {"definition": ["Unknown field colour."]}


def test_an_unknown_field_on_a_step_names_the_step() -> None:
    found = problems(journey(send("welcome", delay=3), EXIT))
    assert found == {"steps.welcome": ["Unknown field delay."]}


def test_a_step_of_an_unknown_type_is_refused() -> None:
    found = problems(journey({"id": "x", "type": "sms"}, EXIT))
    assert list(found) == ["steps.x"]
    assert found["steps.x"][0].startswith("Choose type from: wait, wait_for, branch")


@pytest.mark.parametrize("trigger", [{"type": "event", "event": "clicked"}, {"type": "event"}])
def test_an_unknown_or_missing_trigger_event_is_refused(trigger: dict[str, Any]) -> None:
    assert "trigger" in problems(journey(trigger=trigger))


def test_a_trigger_must_be_an_object() -> None:
    assert problems(journey(trigger="purchase")) == {"trigger": ["trigger must be an object."]}


def test_an_unknown_trigger_type_is_refused() -> None:
    found = problems(journey(trigger={"type": "weather"}))
    assert found["trigger"] == ["Choose type from: event, tag_added, date, inactivity."]


def test_a_date_trigger_needs_birthday_or_joined_and_an_hour_of_the_day() -> None:
    found = problems(journey(trigger={"type": "date", "date": "nameday", "hour": 24}))
    assert found["trigger"] == [
        "Choose date from: birthday, joined.",
        "Use a whole number from 0 to 23 for hour.",
    ]


@pytest.mark.parametrize("days", [0, 366, "30", True, 1.5])
def test_inactivity_lasts_one_to_365_days(days: object) -> None:
    found = problems(journey(trigger={"type": "inactivity", "days": days}))
    assert found == {"trigger": ["Use a whole number from 1 to 365 for days."]}


def test_an_unknown_event_in_wait_for_and_goal_is_refused() -> None:
    found = problems(
        journey(
            {"id": "f", "type": "wait_for", "event": "opened", "timeout": {"days": 1}},
            EXIT,
            goal={"event": "paid", "within_days": 7},
        )
    )
    assert set(found) == {"steps.f", "goal"}
    assert found["steps.f"][0].startswith("Choose event from: signup_confirmed")


def test_no_steps_or_too_many_are_refused() -> None:
    assert problems(journey() | {"steps": []}) == {
        "steps": ["Give the journey 1 to 50 steps, as a list."]
    }
    many = [send(f"s{n}") for n in range(STEPS_MAX)] + [EXIT]
    assert problems(journey(*many)) == {"steps": ["Give the journey 1 to 50 steps, as a list."]}


def test_fifty_steps_are_allowed() -> None:
    steps = [send(f"s{n}") for n in range(STEPS_MAX - 1)] + [EXIT]
    assert len(parse_definition(journey(*steps)).steps) == STEPS_MAX


@pytest.mark.parametrize("step_id", ["", "has space", "a" * 65, 7, None])
def test_a_step_needs_a_short_plain_id(step_id: object) -> None:
    found = problems(journey({"id": step_id, "type": "exit"}))
    assert found == {"steps[0]": ["Give id as 1 to 64 letters, digits, '_' or '-'."]}


def test_a_step_id_used_twice_is_refused() -> None:
    found = problems(journey(send("a"), send("a"), EXIT))
    assert found["steps.a"] == ["Step id a is used twice."]


def test_the_last_step_must_say_where_it_goes_or_be_an_exit() -> None:
    found = problems(journey(EXIT, send("last")))
    assert found["steps.last"] == [
        "Step last is the last one: say where it goes next, or make it an exit."
    ]


# Refused: delays and sizes.


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ({"days": 366}, "Use a whole number from 0 to 365 for days."),
        ({"days": 365, "hours": 1}, "for must last from 1 minute to 365 days."),
        ({"hours": 24}, "Use a whole number from 0 to 23 for hours."),
        ({"minutes": 60}, "Use a whole number from 0 to 59 for minutes."),
        ({}, "for must last from 1 minute to 365 days."),
        ({"minutes": 0}, "for must last from 1 minute to 365 days."),
        ({"weeks": 1}, "Unknown field weeks."),
        ({"days": -1}, "Use a whole number from 0 to 365 for days."),
        (3, "for must be an object."),
    ],
)
def test_a_wait_lasts_one_minute_to_365_days(duration: object, message: str) -> None:
    found = problems(journey({"id": "w", "type": "wait", "for": duration}, EXIT))
    assert found == {"steps.w": [message]}


@pytest.mark.parametrize("duration", [{"minutes": 1}, {"days": 365}, {"days": 2, "hours": 23}])
def test_waits_at_the_limits_are_allowed(duration: dict[str, int]) -> None:
    parse_definition(journey({"id": "w", "type": "wait", "for": duration}, EXIT))


def test_a_wait_for_timeout_is_bounded_too() -> None:
    step = {"id": "f", "type": "wait_for", "event": "purchase", "timeout": {"days": 400}}
    assert problems(journey(step, EXIT)) == {
        "steps.f": ["Use a whole number from 0 to 365 for days."]
    }


def test_a_goal_is_within_one_to_365_days() -> None:
    found = problems(journey(goal={"event": "purchase", "within_days": 0}))
    assert found == {"goal": ["Use a whole number from 1 to 365 for within_days."]}


@pytest.mark.parametrize(
    "wait",
    [
        {"id": "w", "type": "wait"},
        {"id": "w", "type": "wait", "for": {"days": 1}, "until": {"time": "09:00"}},
    ],
)
def test_a_wait_needs_exactly_one_of_for_and_until(wait: dict[str, Any]) -> None:
    assert problems(journey(wait, EXIT)) == {
        "steps.w": ["A wait needs exactly one of for and until."]
    }


@pytest.mark.parametrize("clock", ["9:00", "24:00", "09:60", "0900", 900])
def test_a_time_of_day_is_hh_mm(clock: object) -> None:
    found = problems(journey({"id": "w", "type": "wait", "until": {"time": clock}}, EXIT))
    assert found == {"steps.w": ["Write time as HH:MM on a 24-hour clock, such as 09:00."]}


@pytest.mark.parametrize("weekdays", [[], ["monday"], ["mon", "mon"], "mon"])
def test_weekdays_are_distinct_short_names(weekdays: object) -> None:
    wait = {"id": "w", "type": "wait", "until": {"time": "09:00", "weekdays": weekdays}}
    assert problems(journey(wait, EXIT)) == {
        "steps.w": ["Choose weekdays from: mon, tue, wed, thu, fri, sat, sun."]
    }


def test_a_branch_needs_one_to_ten_cases() -> None:
    branch = {"id": "b", "type": "branch", "cases": []}
    assert problems(journey(branch, EXIT)) == {
        "steps.b": ["Give a branch 1 to 10 cases, as a list."]
    }


def test_a_case_needs_one_to_ten_conditions() -> None:
    condition = {"on": "points", "op": "gt", "value": 1}
    branch = {"id": "b", "type": "branch", "cases": [{"when": [condition] * 11, "next": "end"}]}
    assert problems(journey(branch, EXIT)) == {
        "steps.b": ["Give each case 1 to 10 conditions in when, as a list."]
    }


def test_unknown_templates_and_rewards_are_refused_when_known_ones_are_given() -> None:
    raw = journey(send("s"), {"id": "g", "type": "grant", "reward": "car"}, EXIT)
    found = problems(raw, Known(templates={"other"}, rewards={"coupon"}))
    assert found == {
        "steps.s": ["There is no message template welcome."],
        "steps.g": ["There is no reward car."],
    }


def test_a_journey_sends_marketing_or_birthday_mail_never_transactional() -> None:
    found = problems(journey(send("s", topic="transactional"), EXIT))
    assert found == {"steps.s": ["Choose topic from: marketing, birthday."]}


@pytest.mark.parametrize("tag", ["", "   ", "x" * 65, "new\nline", 5])
def test_a_tag_is_short_printable_text(tag: object) -> None:
    found = problems(journey({"id": "t", "type": "tag", "tag": tag}, EXIT))
    assert found == {"steps.t": ["Keep tag to 1 to 64 characters, without control characters."]}


def test_re_entry_once_a_year_is_for_date_triggers_only() -> None:
    assert problems(journey(reentry="yearly")) == {
        "reentry": ["Only a date trigger can enter once a year: choose once or every_time."]
    }


def test_a_date_trigger_cannot_enter_every_time() -> None:
    raw = journey(trigger={"type": "date", "date": "birthday"}, reentry="every_time")
    assert problems(raw) == {
        "reentry": ["A date trigger enters at most once a year: choose once or yearly."]
    }


def test_an_unknown_reentry_policy_is_refused() -> None:
    assert problems(journey(reentry="twice")) == {
        "reentry": ["Choose reentry from: once, yearly, every_time."]
    }


@pytest.mark.parametrize(
    ("cap", "message"),
    [
        ({"limit": 0, "days": 7}, "Use a whole number from 1 to 50 for limit."),
        ({"limit": 3, "days": 91}, "Use a whole number from 1 to 90 for days."),
        ({"limit": 3}, "Give days."),
    ],
)
def test_a_journey_cap_is_bounded(cap: dict[str, int], message: str) -> None:
    assert problems(journey(cap=cap)) == {"cap": [message]}


def test_quiet_hours_must_have_two_different_times() -> None:
    found = problems(journey(quiet_hours={"start": "21:00", "end": "21:00"}))
    assert found == {"quiet_hours": ["Quiet hours must start and end at different times."]}


def test_the_holdout_is_at_most_half() -> None:
    found = problems(journey(holdout_percent=51))
    assert found == {"holdout_percent": ["Use a whole number from 0 to 50 for holdout_percent."]}


# Refused: the graph.


def test_a_step_that_goes_nowhere_known_is_refused() -> None:
    found = problems(journey(send("a", next="ghost"), EXIT))
    assert found == {"steps.a": ["Step a goes to ghost, which does not exist."]}


def test_a_step_nobody_reaches_is_named() -> None:
    found = problems(journey(send("a", next="end"), send("orphan"), EXIT))
    assert found == {"steps.orphan": ["Step orphan cannot be reached from the first step."]}


def test_a_step_with_no_way_to_an_exit_is_named() -> None:
    steps = [
        {"id": "w", "type": "wait", "for": {"days": 1}},
        send("again", next="w"),
        EXIT,
    ]
    found = problems(journey(*steps))
    assert found["steps.w"] == ["From step w no path leads to an exit."]
    assert found["steps.again"] == ["From step again no path leads to an exit."]
    assert "steps.end" in found  # the exit itself is never reached


def test_a_loop_without_a_wait_is_refused_at_its_first_step() -> None:
    case = {"when": [{"on": "tag", "op": "has", "value": "vip"}], "next": "end"}
    steps = [
        send("hello"),
        {"id": "check", "type": "branch", "cases": [case]},
        send("nag", next="check"),
        EXIT,
    ]
    found = problems(journey(*steps))
    assert found == {
        "steps.check": ["Steps check, nag form a loop without a wait: add a wait to it."]
    }


def test_a_branch_that_goes_to_itself_is_a_loop_without_a_wait() -> None:
    case = {"when": [{"on": "points", "op": "lt", "value": 5}], "next": "b"}
    found = problems(journey({"id": "b", "type": "branch", "cases": [case], "else": "end"}, EXIT))
    assert found == {"steps.b": ["Steps b form a loop without a wait: add a wait to it."]}


def test_a_loop_with_a_wait_is_allowed() -> None:
    case = {"when": [{"on": "tag", "op": "has", "value": "bought"}], "next": "end"}
    steps = [
        send("remind"),
        {"id": "pause", "type": "wait", "for": {"days": 7}},
        {"id": "check", "type": "branch", "cases": [case], "else": "remind"},
        EXIT,
    ]
    parse_definition(journey(*steps))


def test_a_loop_through_wait_for_is_allowed() -> None:
    steps = [
        send("remind"),
        {
            "id": "f",
            "type": "wait_for",
            "event": "purchase",
            "timeout": {"days": 3},
            "next": "end",
            "on_timeout": "remind",
        },
        EXIT,
    ]
    parse_definition(journey(*steps))


def test_two_separate_loops_are_each_named_once() -> None:
    tag = {"on": "tag", "op": "has", "value": "x"}
    steps = [
        {"id": "a", "type": "branch", "cases": [{"when": [tag], "next": "b"}], "else": "c"},
        send("b", next="a"),
        {"id": "c", "type": "branch", "cases": [{"when": [tag], "next": "d"}], "else": "end"},
        send("d", next="c"),
        EXIT,
    ]
    found = problems(journey(*steps))
    assert found == {
        "steps.a": ["Steps a, b form a loop without a wait: add a wait to it."],
        "steps.c": ["Steps c, d form a loop without a wait: add a wait to it."],
    }


def test_parse_definition_raises_with_every_problem_and_names_the_first_step() -> None:
    raw = journey(send("a", next="end"), send("orphan", colour=1), EXIT, goal={"event": "x"})
    with pytest.raises(ValidationFailed) as refused:
        parse_definition(raw)
    assert refused.value.message == "The journey is not valid: see step orphan."
    assert refused.value.errors == {
        "steps.orphan": ["Unknown field colour."],
        "goal": ["Give within_days."],
    }
    assert refused.value.status == 422


def test_a_problem_outside_the_steps_says_only_that_the_journey_is_not_valid() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_definition(journey(reentry="twice"))
    assert refused.value.message == "The journey is not valid."


def test_problems_keep_their_templates_and_parameters_for_translation() -> None:
    [problem] = definition_problems(journey(send("a", next="ghost"), EXIT))
    assert problem.step == "a"
    assert problem.message.template == "Step %(step)s goes to %(target)s, which does not exist."
    assert problem.message.params == {"step": "a", "target": "ghost"}


# Triggers and re-entry.


def test_an_event_trigger_matches_its_kind_only() -> None:
    trigger = EventTrigger("purchase")
    assert triggered_by(trigger, "purchase")
    assert not triggered_by(trigger, "refund")


def test_a_tag_trigger_matches_that_tag_being_added() -> None:
    trigger = TagTrigger("vip")
    assert triggered_by(trigger, "tag_added", "vip")
    assert not triggered_by(trigger, "tag_added", "new")
    assert not triggered_by(trigger, "purchase", "vip")


def test_date_and_inactivity_triggers_never_start_from_an_event() -> None:
    assert not triggered_by(DateTrigger("birthday"), "signup_confirmed")
    assert not triggered_by(InactivityTrigger(30), "purchase")


def test_the_entry_key_of_once_is_the_same_every_time() -> None:
    assert entry_key("once", event_id=5) == entry_key("once", event_id=6) == "once"


def test_the_entry_key_of_yearly_is_the_year_of_the_occasion() -> None:
    assert entry_key("yearly", on=date(2027, 2, 28)) == "2027"
    assert entry_key("yearly", on=date(2028, 2, 29)) == "2028"


def test_the_entry_key_of_every_time_is_the_event_or_the_day() -> None:
    assert entry_key("every_time", event_id=41) == "event:41"
    assert entry_key("every_time", on=date(2027, 5, 1)) == "day:2027-05-01"


@pytest.mark.parametrize("reentry", ["yearly", "every_time", "sometimes"])
def test_an_entry_key_without_its_occasion_is_an_error(reentry: str) -> None:
    with pytest.raises(ValueError):
        entry_key(reentry)
