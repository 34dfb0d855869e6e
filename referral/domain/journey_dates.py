"""Local time for journeys: when a birthday or a joining anniversary fires at a local hour,
"wait until 09:00 on a weekday", and quiet hours, in the customer's IANA time zone.

Every instant in and out is an aware datetime (returned in UTC). Wall-clock times that do
not exist (the hour skipped when clocks go forward) move forward by the gap, as the clock
does: 02:30 on the night New York skips 02:00–03:00 is 03:30 EDT. Wall-clock times that
happen twice (when clocks go back) are the first of the two. A birthday or anniversary on
29 February is kept on 28 February in other years. See docs/JOURNEYS.md.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from referral.domain.errors import N_, ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))
UNKNOWN_ZONE = N_("Choose a time zone such as Europe/Amsterdam.")
NO_SUCH_DAY = N_("There is no %(month)s/%(day)s: give a month from 1 to 12 and a day it has.")


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone ``name`` (``UTC`` when empty).

    :raise ValidationFailed: on ``timezone`` for a name the time zone database lacks.
    """
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.on("timezone", UNKNOWN_ZONE) from exc


def check_month_day(month: int, day: int) -> None:
    """A month and day that exist in some year (29 February does).

    :raise ValidationFailed: on ``birthday`` otherwise.
    """
    valid = isinstance(month, int) and isinstance(day, int) and 1 <= month <= 12
    if not valid or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise ValidationFailed.on("birthday", NO_SUCH_DAY, {"month": month, "day": day})


def anniversary_in(year: int, month: int, day: int) -> date:
    """The date a yearly ``month``/``day`` falls on in ``year``: 29 February is 28 February
    in a year that has none."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def occurs_on(month: int, day: int, on: date) -> bool:
    """Whether a yearly ``month``/``day`` falls on the local date ``on``."""
    return anniversary_in(on.year, month, day) == on


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant (UTC) at which the clocks of ``tz`` show ``at`` on ``day``.

    A skipped wall-clock time is read with the offset from before the change (PEP 495,
    ``fold=0``), which lands as far past the gap as it was into it; a repeated one is the
    earlier of the two.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The date the clocks of ``tz`` show at ``moment``."""
    return moment.astimezone(tz).date()


def next_yearly(
    month: int, day: int, at: time, tz: ZoneInfo, not_before: datetime, first_year: int = 1
) -> datetime:
    """The first instant at or after ``not_before`` at which a yearly ``month``/``day``
    shows ``at`` on the clocks of ``tz``, in ``first_year`` or later."""
    year = max(local_date(not_before, tz).year - 1, first_year)
    while True:
        moment = local_instant(anniversary_in(year, month, day), at, tz)
        if moment >= not_before:
            return moment
        year += 1


def next_birthday(month: int, day: int, hour: int, tz: ZoneInfo, not_before: datetime) -> datetime:
    """When the next birthday message is due: ``hour``:00 local time on the day."""
    return next_yearly(month, day, time(hour), tz, not_before)


def next_joining_anniversary(
    joined_at: datetime, hour: int, tz: ZoneInfo, not_before: datetime
) -> datetime:
    """When the next anniversary of joining is due: ``hour``:00 local time on the date the
    customer joined (as their clocks showed it), one year later at the earliest."""
    joined = local_date(joined_at, tz)
    return next_yearly(joined.month, joined.day, time(hour), tz, not_before, joined.year + 1)


def next_local_time(
    after: datetime, tz: ZoneInfo, at: time, weekdays: Iterable[int] = EVERY_DAY
) -> datetime:
    """The first instant strictly after ``after`` at which the clocks of ``tz`` show ``at``
    on one of ``weekdays`` (0 is Monday). Strictly after, so a step that waits for it always
    moves time forward.

    :raise ValueError: when ``weekdays`` is empty.
    """
    allowed = frozenset(weekdays)
    if not allowed:
        raise ValueError("no weekday allowed")
    day = local_date(after, tz) - timedelta(days=1)
    while True:
        moment = local_instant(day, at, tz)
        if moment > after and day.weekday() in allowed:
            return moment
        day += timedelta(days=1)


@dataclass(frozen=True)
class QuietHours:
    """No marketing mail from ``start`` until ``end`` local time (the window may run past
    midnight, 21:00–08:00). ``defer`` holds a message until the window ends; otherwise it
    is skipped."""

    start: time
    end: time
    defer: bool = True

    def covers(self, clock: time) -> bool:
        """Whether the wall-clock time ``clock`` lies inside the window [start, end)."""
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def ends_after(self, moment: datetime, tz: ZoneInfo) -> datetime | None:
        """When the quiet window that holds ``moment`` ends, or None outside one."""
        local = moment.astimezone(tz)
        if not self.covers(local.time()):
            return None
        return next_local_time(moment, tz, self.end)
