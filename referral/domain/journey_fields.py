"""Reading the fields of a journey definition: each reader either returns the value or
records a problem where it was found and returns None, so one pass finds every problem."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from referral.domain.errors import N_, Message

KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
TEXT_MAX = 64

NOT_AN_OBJECT = N_("%(field)s must be an object.")
UNKNOWN_FIELD = N_("Unknown field %(field)s.")
MISSING_FIELD = N_("Give %(field)s.")
WHOLE_NUMBER = N_("Use a whole number from %(low)s to %(high)s for %(field)s.")
CHOOSE = N_("Choose %(field)s from: %(choices)s.")
BAD_KEY = N_("Give %(field)s as 1 to 64 letters, digits, '_' or '-'.")
BAD_TEXT = N_("Keep %(field)s to 1 to %(max)s characters, without control characters.")
BAD_CLOCK = N_("Write %(field)s as HH:MM on a 24-hour clock, such as 09:00.")
LAST_STEP = N_("Step %(step)s is the last one: say where it goes next, or make it an exit.")


@dataclass(frozen=True)
class Problem:
    """What is wrong and where: ``where`` is ``trigger``, ``goal``, ``steps``,
    ``steps.<id>`` …; ``step`` is the step's id when the problem belongs to one."""

    where: str
    message: Message
    step: str | None = None


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: str, template: str, step_id: str | None = None, **params: Any) -> None:
        problem = Problem(where, Message(template, params), step_id)
        if problem not in self.problems:
            self.problems.append(problem)


@dataclass
class Part:
    """One part of the definition being read (the trigger, a step …) and its problems."""

    report: Report
    where: str
    step: str | None = None

    def add(self, template: str, **params: Any) -> None:
        self.report.add(self.where, template, self.step, **params)

    def fields(
        self, raw: object, name: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        """``raw`` as an object with every required field and no unknown one."""
        if not isinstance(raw, dict):
            self.add(NOT_AN_OBJECT, field=name)
            return None
        unknown = [str(key) for key in raw if key not in (*required, *optional)]
        missing = [key for key in required if key not in raw]
        for key in unknown:
            self.add(UNKNOWN_FIELD, field=key)
        for key in missing:
            self.add(MISSING_FIELD, field=key)
        return None if unknown or missing else raw

    def whole(self, raw: object, name: str, low: int, high: int) -> int | None:
        """A whole number from ``low`` to ``high`` (``True`` is not one)."""
        if isinstance(raw, int) and not isinstance(raw, bool) and low <= raw <= high:
            return raw
        self.add(WHOLE_NUMBER, field=name, low=low, high=high)
        return None

    def choice(self, raw: object, name: str, choices: Sequence[str]) -> str | None:
        if isinstance(raw, str) and raw in choices:
            return raw
        self.add(CHOOSE, field=name, choices=", ".join(choices))
        return None

    def key(self, raw: object, name: str) -> str | None:
        """An identifier: a step id, a template or reward key, a question key."""
        if isinstance(raw, str) and KEY.fullmatch(raw):
            return raw
        self.add(BAD_KEY, field=name)
        return None

    def text(self, raw: object, name: str, limit: int = TEXT_MAX) -> str | None:
        """Short printable text, stripped."""
        if isinstance(raw, str) and 0 < len(raw.strip()) <= limit and raw.isprintable():
            return raw.strip()
        self.add(BAD_TEXT, field=name, max=limit)
        return None

    def clock(self, raw: object, name: str) -> time | None:
        found = CLOCK.fullmatch(raw) if isinstance(raw, str) else None
        if found is None:
            self.add(BAD_CLOCK, field=name)
            return None
        return time(int(found[1]), int(found[2]))

    def target(self, found: Mapping[str, Any], name: str, following: str | None) -> str | None:
        """Where a step goes: the field ``name``, else the step after it in the list."""
        if name in found:
            return self.key(found[name], name)
        if following is None:
            self.add(LAST_STEP, step=self.step)
        return following
