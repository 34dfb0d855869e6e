"""Filters of a workspace's customer list, and the saved segments that name one.

A filter is a set of conditions, all of which a customer meets (``AND``); an empty one
matches everyone. The conditions on a participation (``campaign``, ``status``, ``channel``,
``generation``) hold for one and the same participation: "confirmed in campaign 3 through
e-mail" is one sign-up, not three. ``points_min`` is the balance (approved plus pending
points, void lines not counted) in that campaign, or over all campaigns without one.
A customer's last activity is the latest of their first appearance and their timeline's
events; ``active_after`` (that day included) and ``active_before`` (before that day) are
UTC days. ``topic`` is a subscription topic the customer may be written about now
(``transactional`` is everyone).

The query parameters are the ones of the customer list: ``q``, ``campaign``, ``status``,
``tag``, ``channel``, ``generation``, ``points_min``, ``active_after``, ``active_before``
and ``topic``; a saved segment stores them as :meth:`CustomerFilter.to_params` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from referral.domain.consent_topics import TOPICS
from referral.domain.errors import N_, Message, ValidationFailed
from referral.domain.journey_fields import BAD_TEXT, CHOOSE, WHOLE_NUMBER
from referral.domain.tags import BAD_TAG, TAG_MAX, normal_tag

STATUSES = ("pending", "confirmed", "flagged", "rejected")
GENERATION_MAX = 1000
POINTS_MAX = 10**9
CHANNEL_MAX = 32
SEARCH_MAX = 254
NAME_MAX = 80
PARAMS = (
    "q",
    "campaign",
    "status",
    "tag",
    "channel",
    "generation",
    "points_min",
    "active_after",
    "active_before",
    "topic",
)
BAD_DATE = N_("Write %(field)s as a date, such as 2026-12-31.")
BAD_FILTER = N_("This filter cannot be used: correct the fields it names.")


@dataclass(frozen=True)
class CustomerFilter:
    """What the customer list is narrowed to; an empty value narrows nothing."""

    q: str = ""
    campaign: int | None = None
    status: str = ""
    tag: str = ""
    channel: str = ""
    generation: int | None = None
    points_min: int | None = None
    active_after: date | None = None
    active_before: date | None = None
    topic: str = ""

    def to_params(self) -> dict[str, str]:
        """The set conditions as query parameters (dates as ISO 8601), in :data:`PARAMS`
        order."""
        found: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value == "":
                continue
            found[field.name] = value.isoformat() if isinstance(value, date) else str(value)
        return found

    @property
    def is_empty(self) -> bool:
        return not self.to_params()


class _Reader:
    """Reads the parameters one by one and keeps every problem, to report them at once."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.problems: dict[str, list[Message]] = {}

    def raw(self, name: str) -> str:
        value = self.params.get(name)
        if value is None:
            return ""
        return value.strip() if isinstance(value, str) else str(value)

    def bad(self, name: str, template: str, **params: Any) -> None:
        self.problems.setdefault(name, []).append(Message(template, params))

    def text(self, name: str, limit: int) -> str:
        value = self.raw(name)
        if len(value) > limit or not value.isprintable():
            self.bad(name, BAD_TEXT, field=name, max=limit)
            return ""
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.raw(name).lower()
        if value and value not in choices:
            self.bad(name, CHOOSE, field=name, choices=", ".join(choices))
            return ""
        return value

    def whole(self, name: str, low: int, high: int) -> int | None:
        value = self.raw(name)
        if not value:
            return None
        if value.isascii() and value.isdigit() and low <= int(value) <= high:
            return int(value)
        self.bad(name, WHOLE_NUMBER, field=name, low=low, high=high)
        return None

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if not value:
            return None
        try:
            if len(value) == 10:  # YYYY-MM-DD only, not the other ISO 8601 forms
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.bad(name, BAD_DATE, field=name)
        return None

    def tag(self) -> str:
        value = self.raw("tag")
        if not value:
            return ""
        clean = normal_tag(value)
        if clean is None:
            self.bad("tag", BAD_TAG, max=TAG_MAX)
            return ""
        return clean


def parse_filter(params: Mapping[str, Any]) -> CustomerFilter:
    """The filter the query parameters ``params`` describe (unknown parameters are left
    alone, as a page's own ``page`` is). ``campaign`` is an id; whether it is the
    workspace's is the caller's to check.

    :raise ValidationFailed: naming every parameter that is not valid.
    """
    read = _Reader(params)
    found = CustomerFilter(
        q="".join(c for c in read.raw("q") if c.isprintable())[:SEARCH_MAX],
        campaign=read.whole("campaign", 1, 2**31 - 1),
        status=read.choice("status", STATUSES),
        tag=read.tag(),
        channel=read.text("channel", CHANNEL_MAX),
        generation=read.whole("generation", 0, GENERATION_MAX),
        points_min=read.whole("points_min", 0, POINTS_MAX),
        active_after=read.day("active_after"),
        active_before=read.day("active_before"),
        topic=read.choice("topic", TOPICS),
    )
    if read.problems:
        raise ValidationFailed(BAD_FILTER, read.problems)
    return found


def checked_name(name: object) -> str:
    """A segment's name, stripped. :raise ValidationFailed: on ``name`` unless it is 1 to
    80 printable characters."""
    if isinstance(name, str) and 0 < len(name.strip()) <= NAME_MAX and name.isprintable():
        return name.strip()
    raise ValidationFailed.on("name", BAD_TEXT, {"field": "name", "max": NAME_MAX})
