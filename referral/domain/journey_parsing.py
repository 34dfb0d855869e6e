"""Reading a journey definition (a JSON object) into ``journeys.Definition``, or saying
everything that is wrong with it, each problem at the step it concerns.

Unknown fields are refused (a typo must not silently change what a journey does), and so
are unknown event kinds, step types and operators; sizes and delays are bounded. A step
that does not say where it goes next goes to the step after it in the list. The format is
described in docs/JOURNEYS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from referral.domain.consent_topics import CAP_DAYS_RANGE, CAP_LIMIT_RANGE, HOLDOUT_MAX, Cap
from referral.domain.errors import N_, Message, ValidationFailed
from referral.domain.journey_conditions import parse_case
from referral.domain.journey_dates import WEEKDAYS, QuietHours
from referral.domain.journey_fields import CHOOSE, Part, Problem, Report
from referral.domain.journey_graph import graph_problems
from referral.domain.journeys import (
    CASES_MAX,
    DATE_KINDS,
    DEFAULT_HOUR,
    DELAY_MAX_DAYS,
    EVENT_KINDS,
    EVERY_TIME,
    REENTRY,
    SEND_TOPICS,
    STEP_TYPES,
    STEPS_MAX,
    TRIGGER_TYPES,
    YEARLY,
    Branch,
    DateTrigger,
    Definition,
    Duration,
    EventTrigger,
    Exit,
    Goal,
    Grant,
    InactivityTrigger,
    Send,
    Step,
    Tag,
    TagTrigger,
    Trigger,
    Untag,
    Wait,
    WaitFor,
    Webhook,
    default_reentry,
)
from referral.domain.tags import BAD_TAG, TAG_MAX, normal_tag

TOP_FIELDS = ("trigger", "steps", "goal", "reentry", "cap", "quiet_hours", "holdout_percent")

NOT_VALID = N_("The journey is not valid.")
NOT_VALID_AT = N_("The journey is not valid: see step %(step)s.")
BAD_STEPS = N_("Give the journey 1 to %(max)s steps, as a list.")
DUPLICATE_STEP = N_("Step id %(step)s is used twice.")
BAD_DELAY = N_("%(field)s must last from 1 minute to %(max)s days.")
WAIT_KIND = N_("A wait needs exactly one of for and until.")
BRANCH_CASES = N_("Give a branch 1 to %(max)s cases, as a list.")
UNKNOWN_TEMPLATE = N_("There is no message template %(key)s.")
UNKNOWN_REWARD = N_("There is no reward %(key)s.")
DATE_REENTRY = N_("A date trigger enters at most once a year: choose once or yearly.")
YEARLY_ONLY_DATES = N_("Only a date trigger can enter once a year: choose once or every_time.")
SAME_QUIET_HOURS = N_("Quiet hours must start and end at different times.")
# What a grant step may pay: points or a coupon from the campaign's pool (never draw
# entries, which nobody may earn by what they buy, nor cash, which would need a currency).
GRANT_REWARDS = ("points", "coupon")
GRANT_AMOUNT_MAX = 10_000_000


@dataclass(frozen=True)
class Known:
    """The message templates and rewards the workspace has; None when not checked."""

    templates: Collection[str] | None = None
    rewards: Collection[str] | None = None


def parse_definition(
    raw: object,
    *,
    templates: Collection[str] | None = None,
    rewards: Collection[str] | None = None,
) -> Definition:
    """The definition ``raw`` as values, when it is valid.

    :raise ValidationFailed: with every problem, keyed as :class:`Problem.where`.
    """
    definition, problems = read(raw, Known(templates, rewards))
    if definition is not None:
        return definition
    errors: dict[str, list[str | Message]] = {}
    for problem in problems:
        errors.setdefault(problem.where, []).append(problem.message)
    first = next((p.step for p in problems if p.step is not None), None)
    if first is None:
        raise ValidationFailed(NOT_VALID, errors)
    raise ValidationFailed(NOT_VALID_AT, errors, {"step": first})


def definition_problems(raw: object, known: Known | None = None) -> list[Problem]:
    """Every problem of ``raw``; empty when it is a valid definition."""
    return read(raw, known or Known())[1]


def read(raw: object, known: Known) -> tuple[Definition | None, list[Problem]]:
    report = Report()
    found = Part(report, "definition").fields(raw, "definition", TOP_FIELDS[:2], TOP_FIELDS[2:])
    if found is None:
        return None, report.problems
    trigger = read_trigger(Part(report, "trigger"), found["trigger"])
    steps = read_steps(report, found["steps"], known)
    goal = read_goal(Part(report, "goal"), found["goal"]) if "goal" in found else None
    reentry = read_reentry(Part(report, "reentry"), found.get("reentry"), trigger)
    cap = read_cap(Part(report, "cap"), found["cap"]) if "cap" in found else None
    quiet = read_quiet(Part(report, "quiet_hours"), found.get("quiet_hours"))
    holdout = Part(report, "holdout_percent").whole(
        found.get("holdout_percent", 0), "holdout_percent", 0, HOLDOUT_MAX
    )
    if report.problems or trigger is None or steps is None or reentry is None:
        return None, report.problems
    assert holdout is not None
    return Definition(trigger, steps, goal, reentry, cap, quiet, holdout), []


def read_trigger(part: Part, raw: object) -> Trigger | None:
    if not isinstance(raw, dict):
        part.fields(raw, "trigger", ())
        return None
    kind = raw.get("type")
    if kind not in TRIGGER_TYPES:
        part.add(CHOOSE, field="type", choices=", ".join(TRIGGER_TYPES))
        return None
    return TRIGGER_READERS[str(kind)](part, raw)


def read_event_trigger(part: Part, raw: object) -> Trigger | None:
    found = part.fields(raw, "trigger", ("type", "event"))
    event = part.choice(found["event"], "event", EVENT_KINDS) if found else None
    return EventTrigger(event) if event else None


def read_tag(part: Part, raw: object) -> str | None:
    """A tag in its one spelling (``domain.tags``), so a tag step and a tag trigger name the
    tag the marketer and the API set."""
    text = part.text(raw, "tag")
    if text is None:
        return None
    clean = normal_tag(text)
    if clean is None:
        part.add(BAD_TAG, max=TAG_MAX)
    return clean


def read_tag_trigger(part: Part, raw: object) -> Trigger | None:
    found = part.fields(raw, "trigger", ("type", "tag"))
    tag = read_tag(part, found["tag"]) if found else None
    return TagTrigger(tag) if tag else None


def read_inactivity_trigger(part: Part, raw: object) -> Trigger | None:
    found = part.fields(raw, "trigger", ("type", "days"))
    days = part.whole(found["days"], "days", 1, DELAY_MAX_DAYS) if found else None
    return InactivityTrigger(days) if days else None


def read_date_trigger(part: Part, raw: object) -> Trigger | None:
    found = part.fields(raw, "trigger", ("type", "date"), ("hour",))
    if found is None:
        return None
    date_kind = part.choice(found["date"], "date", DATE_KINDS)
    hour = part.whole(found.get("hour", DEFAULT_HOUR), "hour", 0, 23)
    return DateTrigger(date_kind, hour) if date_kind and hour is not None else None


TRIGGER_READERS: dict[str, Callable[[Part, object], Trigger | None]] = {
    "event": read_event_trigger,
    "tag_added": read_tag_trigger,
    "inactivity": read_inactivity_trigger,
    "date": read_date_trigger,
}


def read_goal(part: Part, raw: object) -> Goal | None:
    found = part.fields(raw, "goal", ("event", "within_days"))
    if found is None:
        return None
    event = part.choice(found["event"], "event", EVENT_KINDS)
    days = part.whole(found["within_days"], "within_days", 1, DELAY_MAX_DAYS)
    return Goal(event, days) if event and days else None


def read_reentry(part: Part, raw: object, trigger: Trigger | None) -> str | None:
    if trigger is None:
        return None
    if raw is None:
        return default_reentry(trigger)
    reentry = part.choice(raw, "reentry", REENTRY)
    dated = isinstance(trigger, DateTrigger)
    if reentry == EVERY_TIME and dated:
        part.add(DATE_REENTRY)
        return None
    if reentry == YEARLY and not dated:
        part.add(YEARLY_ONLY_DATES)
        return None
    return reentry


def read_cap(part: Part, raw: object) -> Cap | None:
    found = part.fields(raw, "cap", ("limit", "days"))
    if found is None:
        return None
    limit = part.whole(found["limit"], "limit", *CAP_LIMIT_RANGE)
    days = part.whole(found["days"], "days", *CAP_DAYS_RANGE)
    return Cap(limit, days) if limit and days else None


def read_quiet(part: Part, raw: object) -> QuietHours | None:
    if raw is None:
        return None
    found = part.fields(raw, "quiet_hours", ("start", "end"), ("then",))
    if found is None:
        return None
    start = part.clock(found["start"], "start")
    end = part.clock(found["end"], "end")
    then = part.choice(found.get("then", "defer"), "then", ("defer", "skip"))
    if start is None or end is None or then is None:
        return None
    if start == end:
        part.add(SAME_QUIET_HOURS)
        return None
    return QuietHours(start, end, then == "defer")


def read_duration(part: Part, raw: object, name: str) -> Duration | None:
    found = part.fields(raw, name, (), ("days", "hours", "minutes"))
    if found is None:
        return None
    days = part.whole(found.get("days", 0), "days", 0, DELAY_MAX_DAYS)
    hours = part.whole(found.get("hours", 0), "hours", 0, 23)
    minutes = part.whole(found.get("minutes", 0), "minutes", 0, 59)
    if days is None or hours is None or minutes is None:
        return None
    duration = Duration(days, hours, minutes)
    if not 60 <= duration.delta.total_seconds() <= DELAY_MAX_DAYS * 86400:
        part.add(BAD_DELAY, field=name, max=DELAY_MAX_DAYS)
        return None
    return duration


def read_weekdays(part: Part, raw: object) -> frozenset[int] | None:
    names = raw if isinstance(raw, list) else None
    if (
        not names
        or len(set(map(str, names))) != len(names)
        or any(n not in WEEKDAYS for n in names)
    ):
        part.add(CHOOSE, field="weekdays", choices=", ".join(WEEKDAYS))
        return None
    return frozenset(WEEKDAYS.index(name) for name in names)


def read_steps(report: Report, raw: object, known: Known) -> tuple[Step, ...] | None:
    """Every step, then (when each is valid on its own) the shape of the whole graph."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= STEPS_MAX:
        report.add("steps", BAD_STEPS, max=STEPS_MAX)
        return None
    before = len(report.problems)
    ids = step_ids(report, raw)
    steps: list[Step | None] = []
    for index, (step_id, item) in enumerate(zip(ids, raw, strict=True)):
        following = ids[index + 1] if index + 1 < len(ids) else None
        if step_id is not None and step_id not in ids[:index]:
            steps.append(
                read_step(Part(report, f"steps.{step_id}", step_id), item, following, known)
            )
    parsed = tuple(step for step in steps if step is not None)
    if len(parsed) != len(raw) or len(report.problems) > before:
        return None
    for step_id, message in graph_problems(parsed):
        report.add(f"steps.{step_id}", message.template, step_id, **message.params)
    return None if len(report.problems) > before else parsed


def step_ids(report: Report, raw: list[Any]) -> list[str | None]:
    """Each step's id (None where it is missing or malformed); a second use is refused."""
    ids: list[str | None] = []
    for index, item in enumerate(raw):
        step_id = item.get("id") if isinstance(item, dict) else None
        step_id = Part(report, f"steps[{index}]").key(step_id, "id")
        if step_id is not None and step_id in ids:
            report.add(f"steps.{step_id}", DUPLICATE_STEP, step_id, step=step_id)
        ids.append(step_id)
    return ids


def read_step(part: Part, raw: object, following: str | None, known: Known) -> Step | None:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in STEP_TYPES:
        part.add(CHOOSE, field="type", choices=", ".join(STEP_TYPES))
        return None
    return STEP_READERS[str(kind)](part, raw, following, known)


def read_wait(part: Part, raw: object, following: str | None, _known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type"), ("for", "until", "next"))
    if found is None:
        return None
    goes = part.target(found, "next", following)
    if ("for" in found) == ("until" in found):
        part.add(WAIT_KIND)
        return None
    if "for" in found:
        duration = read_duration(part, found["for"], "for")
        return Wait(found["id"], goes, duration) if goes and duration else None
    until = part.fields(found["until"], "until", ("time",), ("weekdays",))
    if until is None:
        return None
    at = part.clock(until["time"], "time")
    weekdays = read_weekdays(part, until.get("weekdays", list(WEEKDAYS)))
    if goes is None or at is None or weekdays is None:
        return None
    return Wait(found["id"], goes, at=at, weekdays=weekdays)


def read_wait_for(part: Part, raw: object, following: str | None, _known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type", "event", "timeout"), ("next", "on_timeout"))
    if found is None:
        return None
    event = part.choice(found["event"], "event", EVENT_KINDS)
    timeout = read_duration(part, found["timeout"], "timeout")
    goes = part.target(found, "next", following)
    late = part.target(found, "on_timeout", following)
    if event and timeout and goes and late:
        return WaitFor(found["id"], goes, event, timeout, late)
    return None


def read_branch(part: Part, raw: object, following: str | None, _known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type", "cases"), ("else",))
    if found is None:
        return None
    otherwise = part.target(found, "else", following)
    cases = found["cases"]
    if not isinstance(cases, list) or not 1 <= len(cases) <= CASES_MAX:
        part.add(BRANCH_CASES, max=CASES_MAX)
        return None
    parsed = [parse_case(part, case) for case in cases]
    if otherwise is None or None in parsed:
        return None
    return Branch(found["id"], tuple(c for c in parsed if c is not None), otherwise)


def read_send(part: Part, raw: object, following: str | None, known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type", "template"), ("topic", "next"))
    if found is None:
        return None
    template = part.key(found["template"], "template")
    if template and known.templates is not None and template not in known.templates:
        part.add(UNKNOWN_TEMPLATE, key=template)
        template = None
    topic = part.choice(found.get("topic", SEND_TOPICS[0]), "topic", SEND_TOPICS)
    goes = part.target(found, "next", following)
    return Send(found["id"], goes, template, topic) if template and topic and goes else None


def read_grant(part: Part, raw: object, following: str | None, known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type", "reward"), ("amount", "next"))
    if found is None:
        return None
    reward = part.key(found["reward"], "reward")
    if reward and known.rewards is not None and reward not in known.rewards:
        part.add(UNKNOWN_REWARD, key=reward)
        reward = None
    amount = part.whole(found.get("amount", 1), "amount", 1, GRANT_AMOUNT_MAX)
    goes = part.target(found, "next", following)
    return Grant(found["id"], goes, reward, amount) if reward and amount and goes else None


def read_tagging(part: Part, raw: object, following: str | None, _known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type", "tag"), ("next",))
    if found is None:
        return None
    tag = read_tag(part, found["tag"])
    goes = part.target(found, "next", following)
    if not (tag and goes):
        return None
    return Tag(found["id"], goes, tag) if found["type"] == "tag" else Untag(found["id"], goes, tag)


def read_webhook(part: Part, raw: object, following: str | None, _known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type"), ("label", "next"))
    if found is None:
        return None
    label = part.key(found["label"], "label") if "label" in found else ""
    goes = part.target(found, "next", following)
    return Webhook(found["id"], goes, label) if label is not None and goes else None


def read_exit(part: Part, raw: object, _following: str | None, _known: Known) -> Step | None:
    found = part.fields(raw, "step", ("id", "type"))
    return Exit(found["id"]) if found else None


StepReader = Callable[[Part, object, str | None, Known], Step | None]
STEP_READERS: dict[str, StepReader] = {
    "wait": read_wait,
    "wait_for": read_wait_for,
    "branch": read_branch,
    "send": read_send,
    "grant": read_grant,
    "tag": read_tagging,
    "untag": read_tagging,
    "webhook": read_webhook,
    "exit": read_exit,
}
