"""Journeys as data: what starts one, the steps it takes, its goal and who may enter again.

A journey answers "what do we say to this customer next, and when". Its definition is a
JSON object (see docs/JOURNEYS.md for the format); ``journey_parsing.parse_definition``
turns it into the frozen values below, refusing anything it does not know, and
``journey_interpreter.decide`` says what an enrolment does next. Nothing here reads a
database or sends anything: the runner applies what these functions decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cached_property
from typing import ClassVar

from referral.domain.consent_topics import BIRTHDAY, MARKETING, Cap
from referral.domain.journey_dates import EVERY_DAY, QuietHours

# The events a journey can start on, wait for or count as its goal.
EVENT_KINDS = (
    "signup_confirmed",
    "referral_confirmed",
    "milestone_reached",
    "reward_granted",
    "survey_completed",
    "trial_started",
    "trial_ending",
    "trial_converted",
    "lottery_entered",
    "instant_win_played",
    "purchase",
)
TRIGGER_TYPES = ("event", "tag_added", "date", "inactivity")
DATE_KINDS = ("birthday", "joined")
STEP_TYPES = ("wait", "wait_for", "branch", "send", "grant", "tag", "untag", "webhook", "exit")
# Steps that let time pass: every loop must hold one.
WAITING_TYPES = frozenset({"wait", "wait_for"})
SEND_TOPICS = (MARKETING, BIRTHDAY)
ONCE, YEARLY, EVERY_TIME = "once", "yearly", "every_time"
REENTRY = (ONCE, YEARLY, EVERY_TIME)

STEPS_MAX = 50
DELAY_MAX_DAYS = 365
CASES_MAX = 10
CONDITIONS_MAX = 10
DEFAULT_HOUR = 9


@dataclass(frozen=True)
class EventTrigger:
    """Starts when the customer's ``event`` is recorded."""

    event: str
    type: ClassVar[str] = "event"


@dataclass(frozen=True)
class TagTrigger:
    """Starts when ``tag`` is added to the customer."""

    tag: str
    type: ClassVar[str] = "tag_added"


@dataclass(frozen=True)
class DateTrigger:
    """Starts on the customer's birthday or joining anniversary at ``hour`` local time."""

    date: str
    hour: int = DEFAULT_HOUR
    type: ClassVar[str] = "date"


@dataclass(frozen=True)
class InactivityTrigger:
    """Starts when the customer has had no event for ``days`` days."""

    days: int
    type: ClassVar[str] = "inactivity"


Trigger = EventTrigger | TagTrigger | DateTrigger | InactivityTrigger


@dataclass(frozen=True)
class Duration:
    days: int = 0
    hours: int = 0
    minutes: int = 0

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


@dataclass(frozen=True)
class _Onward:
    """A step that goes on to ``next`` once it is done (every step but a branch and an exit)."""

    id: str
    next: str


@dataclass(frozen=True)
class Wait(_Onward):
    """Sleeps ``duration`` (elapsed time), or until the local time ``at`` on a weekday."""

    duration: Duration | None = None
    at: time | None = None
    weekdays: frozenset[int] = EVERY_DAY
    type: ClassVar[str] = "wait"


@dataclass(frozen=True)
class WaitFor(_Onward):
    """Waits for ``event`` (then ``next``) at most ``timeout`` (then ``on_timeout``)."""

    event: str
    timeout: Duration
    on_timeout: str
    type: ClassVar[str] = "wait_for"


Scalar = str | int | float | bool
ConditionValue = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True)
class Condition:
    """``on`` (attribute, tag, points, campaign, channel, generation, survey), compared by
    ``op`` with ``value``; ``name`` is the attribute's name or the survey question's key."""

    on: str
    op: str
    value: ConditionValue = None
    name: str | None = None


@dataclass(frozen=True)
class Case:
    """Taken when every condition of ``when`` holds."""

    when: tuple[Condition, ...]
    next: str


@dataclass(frozen=True)
class Branch:
    """Goes to the first case whose conditions hold, else to ``otherwise``."""

    id: str
    cases: tuple[Case, ...]
    otherwise: str
    type: ClassVar[str] = "branch"


@dataclass(frozen=True)
class Send(_Onward):
    """Writes the message ``template`` about ``topic`` (consent and caps permitting)."""

    template: str
    topic: str = MARKETING
    type: ClassVar[str] = "send"


@dataclass(frozen=True)
class Grant(_Onward):
    """Pays ``amount`` of the reward ``reward`` to the customer itself (level 0), through
    the ledger and the depth cap, once per visit of the step."""

    reward: str
    amount: int = 1
    type: ClassVar[str] = "grant"


@dataclass(frozen=True)
class _Tagging(_Onward):
    """Adds or removes ``tag`` on the customer."""

    tag: str


@dataclass(frozen=True)
class Tag(_Tagging):
    type: ClassVar[str] = "tag"


@dataclass(frozen=True)
class Untag(_Tagging):
    type: ClassVar[str] = "untag"


@dataclass(frozen=True)
class Webhook(_Onward):
    """Queues the ``journey.step`` webhook, with ``label`` for the receiver."""

    label: str = ""
    type: ClassVar[str] = "webhook"


@dataclass(frozen=True)
class Exit:
    id: str
    type: ClassVar[str] = "exit"


# Steps that do something the runner applies, then go to ``next``.
Effect = Send | Grant | Tag | Untag | Webhook
Step = Wait | WaitFor | Branch | Effect | Exit


def targets(step: Step) -> tuple[str, ...]:
    """The steps ``step`` may go to, in the order it names them."""
    if isinstance(step, Exit):
        return ()
    if isinstance(step, Branch):
        return (*(case.next for case in step.cases), step.otherwise)
    if isinstance(step, WaitFor):
        return (step.next, step.on_timeout)
    return (step.next,)


@dataclass(frozen=True)
class Goal:
    """The journey ends, counted as converted, when ``event`` happens within ``days``."""

    event: str
    days: int


@dataclass(frozen=True)
class Definition:
    """A valid journey definition; the first step is where every enrolment starts."""

    trigger: Trigger
    steps: tuple[Step, ...]
    goal: Goal | None = None
    reentry: str = ONCE
    cap: Cap | None = None
    quiet_hours: QuietHours | None = None
    holdout_percent: int = 0

    @property
    def start(self) -> str:
        return self.steps[0].id

    @cached_property
    def by_id(self) -> Mapping[str, Step]:
        return {step.id: step for step in self.steps}

    def step(self, step_id: str) -> Step:
        """:raise KeyError: for a step the definition does not hold."""
        return self.by_id[step_id]


def default_reentry(trigger: Trigger) -> str:
    """Yearly for a date (every birthday), once for everything else."""
    return YEARLY if isinstance(trigger, DateTrigger) else ONCE


def triggered_by(trigger: Trigger, kind: str, tag: str | None = None) -> bool:
    """Whether recording an event of ``kind`` (``tag_added`` with ``tag``) starts it. Date
    and inactivity triggers start from the daily sweep, never from an event."""
    if isinstance(trigger, EventTrigger):
        return kind == trigger.event
    if isinstance(trigger, TagTrigger):
        return kind == "tag_added" and tag == trigger.tag
    return False


def entry_key(reentry: str, *, event_id: int | None = None, on: date | None = None) -> str:
    """The key that makes an enrolment unique for (journey, customer): ``once``; the year of
    the occasion (``on``, the local date of a birthday) for ``yearly``; the event for
    ``every_time`` (or the day inactivity was reached, when no event started it).

    :raise ValueError: when the policy needs an occasion that is not given.
    """
    if reentry == ONCE:
        return ONCE
    if reentry == YEARLY and on is not None:
        return str(on.year)
    if reentry == EVERY_TIME and event_id is not None:
        return f"event:{event_id}"
    if reentry == EVERY_TIME and on is not None:
        return f"day:{on.isoformat()}"
    raise ValueError(f"re-entry {reentry!r} needs an occasion")
