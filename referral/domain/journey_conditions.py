"""Branch conditions: how they are written, and whether they hold for a customer.

A condition looks at one thing we know about the customer (``on``): an ``attribute`` by
``name``, a ``tag``, their ``points``, the enrolment's ``campaign``, the ``channel`` they
joined through, their ``generation`` (0 for someone who came on their own, 1 for a friend
of theirs …) or the answer to a ``survey`` question by its key (``question``). Text is
compared ignoring case. A value we do not know satisfies only ``missing`` (and ``lacks``
for a tag): "points below 10" never holds for a customer whose points are unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from referral.domain.errors import N_
from referral.domain.journey_fields import CHOOSE, Part
from referral.domain.journeys import CONDITIONS_MAX, Case, Condition, ConditionValue, Scalar

ORDER_OPS = ("lt", "lte", "gt", "gte")
NUMBER_OPS = ("eq", "ne", *ORDER_OPS)
SET_OPS = ("eq", "ne", "in", "not_in")
PRESENCE_OPS = ("exists", "missing")
LIST_OPS = ("in", "not_in")
SUBJECTS: Mapping[str, tuple[str, ...]] = {
    "attribute": (*SET_OPS, *ORDER_OPS, *PRESENCE_OPS),
    "survey": (*SET_OPS, *ORDER_OPS, "contains", *PRESENCE_OPS),
    "tag": ("has", "lacks"),
    "points": NUMBER_OPS,
    "generation": NUMBER_OPS,
    "campaign": SET_OPS,
    "channel": SET_OPS,
}
# The field that names what is looked at, for the subjects that need one.
NAMED = {"attribute": "name", "survey": "question"}
WHOLE_SUBJECTS = frozenset({"points", "generation", "campaign"})
TEXT_SUBJECTS = frozenset({"tag", "channel"})
VALUE_TEXT_MAX = 200
VALUES_MAX = 50

BAD_WHEN = N_("Give each case 1 to %(max)s conditions in when, as a list.")
NO_VALUE = N_("%(op)s takes no value: leave value out.")
WHOLE_VALUE = N_("Compare %(on)s with a whole number.")
NUMBER_VALUE = N_("Compare %(on)s with a number for %(op)s.")
SCALAR_VALUE = N_("Compare %(on)s with text, a number or true/false.")
LIST_VALUE = N_("For %(op)s give a list of 1 to %(max)s values.")

Answer = str | int | float | tuple[str, ...]


def parse_case(part: Part, raw: object) -> Case | None:
    found = part.fields(raw, "case", ("when", "next"))
    if found is None:
        return None
    goes = part.key(found["next"], "next")
    when = found["when"]
    if not isinstance(when, list) or not 1 <= len(when) <= CONDITIONS_MAX:
        part.add(BAD_WHEN, max=CONDITIONS_MAX)
        return None
    conditions = [parse_condition(part, item) for item in when]
    if goes is None or None in conditions:
        return None
    return Case(tuple(c for c in conditions if c is not None), goes)


def parse_condition(part: Part, raw: object) -> Condition | None:
    on = raw.get("on") if isinstance(raw, dict) else None
    if on not in SUBJECTS:
        part.add(CHOOSE, field="on", choices=", ".join(SUBJECTS))
        return None
    subject = str(on)
    named = NAMED.get(subject)
    optional = ("value",) if named is None else ("value", named)
    found = part.fields(raw, "condition", ("on", "op", *((named,) if named else ())), optional)
    if found is None:
        return None
    name = part.key(found[named], named) if named else None
    op = part.choice(found["op"], "op", SUBJECTS[subject])
    if op is None or (named and name is None):
        return None
    value, ok = parse_value(part, subject, op, found)
    return Condition(subject, op, value, name) if ok else None


def parse_value(
    part: Part, on: str, op: str, found: Mapping[str, Any]
) -> tuple[ConditionValue, bool]:
    """The value compared with, and whether it is valid for ``op`` on ``on``."""
    if op in PRESENCE_OPS:
        if "value" in found:
            part.add(NO_VALUE, op=op)
        return None, "value" not in found
    raw = found.get("value")
    if op in LIST_OPS:
        if not isinstance(raw, list) or not 1 <= len(raw) <= VALUES_MAX:
            part.add(LIST_VALUE, op=op, max=VALUES_MAX)
            return None, False
        items = [one_value(part, on, op, item) for item in raw]
        valid = all(ok for _v, ok in items)
        return tuple(v for v, _ok in items if v is not None), valid
    return one_value(part, on, op, raw)


def one_value(part: Part, on: str, op: str, raw: object) -> tuple[Scalar | None, bool]:
    number = isinstance(raw, int | float) and not isinstance(raw, bool)
    if on in WHOLE_SUBJECTS:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw, True
        part.add(WHOLE_VALUE, on=on)
    elif op in ORDER_OPS:
        if number:
            return _scalar(raw), True
        part.add(NUMBER_VALUE, on=on, op=op)
    elif on in TEXT_SUBJECTS or op == "contains":
        text = part.text(raw, "value", VALUE_TEXT_MAX)
        return text, text is not None
    elif isinstance(raw, str | bool) or number:
        if not isinstance(raw, str) or part.text(raw, "value", VALUE_TEXT_MAX) is not None:
            return _scalar(raw), True
    else:
        part.add(SCALAR_VALUE, on=on)
    return None, False


def _scalar(raw: object) -> Scalar:
    assert isinstance(raw, str | int | float)
    return raw


@dataclass(frozen=True)
class Facts:
    """What a journey knows about the customer it is running for."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    attributes: Mapping[str, Scalar | None] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    points: int | None = 0
    campaign_id: int | None = None
    channel: str | None = None
    generation: int | None = None
    answers: Mapping[str, Answer] = field(default_factory=dict)


def case_holds(case: Case, facts: Facts) -> bool:
    return all(holds(condition, facts) for condition in case.when)


def holds(condition: Condition, facts: Facts) -> bool:
    """Whether ``condition`` is true of the customer described by ``facts``."""
    op, expected = condition.op, condition.value
    if condition.on == "tag":
        has = any(_same(tag, expected) for tag in facts.tags)
        return has if op == "has" else not has
    actual = _actual(condition, facts)
    if op in PRESENCE_OPS:
        return (actual is None) == (op == "missing")
    if actual is None:
        return False
    return _compare(op, actual, expected)


def _actual(condition: Condition, facts: Facts) -> Answer | bool | None:
    name = condition.name or ""
    looked_up: dict[str, Answer | bool | None] = {
        "points": facts.points,
        "generation": facts.generation,
        "campaign": facts.campaign_id,
        "channel": facts.channel,
    }
    if condition.on == "attribute":
        return facts.attributes.get(name)
    if condition.on == "survey":
        return facts.answers.get(name)
    return looked_up[condition.on]


def _compare(op: str, actual: Answer | bool, expected: ConditionValue) -> bool:
    if op in ("eq", "ne"):
        return _same(actual, expected) == (op == "eq")
    if op in LIST_OPS:
        found = isinstance(expected, tuple) and any(_same(actual, v) for v in expected)
        return found == (op == "in")
    if op == "contains":
        return _contains(actual, expected)
    return _ordered(op, actual, expected)


def _same(actual: object, expected: object) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    return _is_number(actual) and _is_number(expected) and actual == expected


def _contains(actual: object, expected: object) -> bool:
    if not isinstance(expected, str):
        return False
    if isinstance(actual, tuple):
        return any(_same(item, expected) for item in actual)
    return isinstance(actual, str) and expected.casefold() in actual.casefold()


def _ordered(op: str, actual: object, expected: object) -> bool:
    if not (_is_number(actual) and _is_number(expected)):
        return False
    assert isinstance(actual, int | float) and isinstance(expected, int | float)
    if op == "lt":
        return actual < expected
    if op == "lte":
        return actual <= expected
    if op == "gt":
        return actual > expected
    return actual >= expected


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
