"""A journey definition read out in words for the editor and the journey page: each step's
type, what it does and where it goes next, with the problems found at it.

The definition may be one the domain refuses (that is when the marketer needs the list
most), so nothing here assumes a field exists or has the right kind: what cannot be read
is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

STEP_NAMES = {
    "wait": _l("Wait"),
    "wait_for": _l("Wait for an event"),
    "branch": _l("Branch"),
    "send": _l("Send a message"),
    "grant": _l("Grant a reward"),
    "tag": _l("Add a tag"),
    "untag": _l("Remove a tag"),
    "webhook": _l("Call the webhook"),
    "exit": _l("Exit"),
}
TOPIC_NAMES = {"marketing": _l("marketing"), "birthday": _l("birthday")}
DATE_NAMES = {"birthday": _l("birthday"), "joined": _l("anniversary of joining")}


@dataclass
class StepLine:
    """One step as the editor lists it."""

    index: int
    id: str
    type: str
    type_name: str
    does: str
    goes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value) if value is not None else "?"


def duration_words(raw: object) -> str:
    """``{"days": 1, "hours": 2}`` → "1 day 2 hours"."""
    if not isinstance(raw, dict):
        return "?"
    days, hours, minutes = (raw.get(k, 0) for k in ("days", "hours", "minutes"))
    pieces = []
    if isinstance(days, int) and days:
        pieces.append(ngettext("%(num)s day", "%(num)s days", days))
    if isinstance(hours, int) and hours:
        pieces.append(ngettext("%(num)s hour", "%(num)s hours", hours))
    if isinstance(minutes, int) and minutes:
        pieces.append(ngettext("%(num)s minute", "%(num)s minutes", minutes))
    return " ".join(pieces) or "?"


def trigger_words(raw: object) -> str:
    """What starts the journey, in words."""
    trigger = raw.get("trigger") if isinstance(raw, dict) else None
    if not isinstance(trigger, dict):
        return "?"
    kind = trigger.get("type")
    if kind == "event":
        return _("When the event %(event)s is recorded", event=_text(trigger.get("event")))
    if kind == "tag_added":
        return _("When the tag %(tag)s is added", tag=_text(trigger.get("tag")))
    if kind == "date":
        day = DATE_NAMES.get(_text(trigger.get("date")), _text(trigger.get("date")))
        hour = trigger.get("hour", 9)
        return _("On the customer's %(day)s at %(hour)s:00 their time", day=day, hour=hour)
    if kind == "inactivity":
        return _("After %(days)s days without any event", days=_text(trigger.get("days")))
    return _text(kind)


def _does(step: dict[str, Any]) -> str:
    kind = step.get("type")
    if kind == "wait":
        until = step.get("until")
        if isinstance(until, dict):
            days = until.get("weekdays")
            on = ", ".join(map(str, days)) if isinstance(days, list) else _("any day")
            return _("Waits until %(time)s (%(days)s)", time=_text(until.get("time")), days=on)
        return _("Waits %(duration)s", duration=duration_words(step.get("for")))
    if kind == "wait_for":
        return _(
            "Waits up to %(duration)s for the event %(event)s",
            duration=duration_words(step.get("timeout")),
            event=_text(step.get("event")),
        )
    if kind == "branch":
        cases = step.get("cases")
        count = len(cases) if isinstance(cases, list) else 0
        return ngettext(
            "Takes the first of %(num)s case whose conditions hold",
            "Takes the first of %(num)s cases whose conditions hold",
            count,
        )
    if kind == "send":
        topic = _text(step.get("topic", "marketing"))
        return _(
            "Sends the message %(template)s (%(topic)s mail, with consent only)",
            template=_text(step.get("template")),
            topic=TOPIC_NAMES.get(topic, topic),
        )
    if kind == "grant":
        return _("Grants the reward %(reward)s", reward=_text(step.get("reward")))
    if kind in ("tag", "untag"):
        text = _("Adds the tag %(tag)s") if kind == "tag" else _("Removes the tag %(tag)s")
        return text % {"tag": _text(step.get("tag"))}
    if kind == "webhook":
        return _("Queues the journey.step webhook")
    if kind == "exit":
        return _("Ends the journey")
    return _("Unknown type of step")


def _goes(step: dict[str, Any], following: str | None) -> list[str]:
    """Where the step may go next, in words (the next step in the list when unnamed)."""
    kind = step.get("type")

    def target(name: str) -> str:
        return _text(step.get(name, following)) if following or name in step else "—"

    if kind == "exit":
        return []
    if kind == "branch":
        found = step.get("cases")
        cases: list[Any] = found if isinstance(found, list) else []
        goes = [
            _(
                "case %(n)s → %(step)s",
                n=n,
                step=_text(c.get("next") if isinstance(c, dict) else None),
            )
            for n, c in enumerate(cases, start=1)
        ]
        return [*goes, _("otherwise → %(step)s", step=target("else"))]
    if kind == "wait_for":
        return [
            _("when it happens → %(step)s", step=target("next")),
            _("when time runs out → %(step)s", step=target("on_timeout")),
        ]
    return [_("then → %(step)s", step=target("next"))]


def step_lines(raw: object, problems: dict[str, list[str]] | None = None) -> list[StepLine]:
    """The steps of ``raw`` in order, each with the problems keyed at it (``steps.<id>``
    or, for a step without a usable id, ``steps[<index>]``)."""
    problems = problems or {}
    steps = raw.get("steps") if isinstance(raw, dict) else None
    if not isinstance(steps, list):
        return []
    ids = [s.get("id") if isinstance(s, dict) else None for s in steps]
    lines = []
    for index, step in enumerate(steps):
        following = ids[index + 1] if index + 1 < len(ids) else None
        found = [*problems.get(f"steps[{index}]", [])]
        if not isinstance(step, dict):
            lines.append(StepLine(index, "?", "?", "?", _("Not an object"), [], found))
            continue
        step_id = _text(step.get("id"))
        found += problems.get(f"steps.{step_id}", [])
        kind = _text(step.get("type"))
        lines.append(
            StepLine(
                index,
                step_id,
                kind,
                str(STEP_NAMES.get(kind, kind)),
                _does(step),
                _goes(step, following if isinstance(following, str) else None),
                found,
            )
        )
    return lines
