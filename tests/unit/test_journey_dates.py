"""Local time for journeys (``domain.journey_dates``): birthdays, anniversaries, "until 09:00"
and quiet hours, in several time zones and across daylight saving time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from referral.domain.errors import ValidationFailed
from referral.domain.journey_dates import (
    QuietHours,
    anniversary_in,
    check_month_day,
    local_instant,
    next_birthday,
    next_joining_anniversary,
    next_local_time,
    next_yearly,
    occurs_on,
    zone,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
AUCKLAND = ZoneInfo("Pacific/Auckland")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_29_february_falls_on_28_february_in_2027() -> None:
    assert anniversary_in(2027, 2, 29) == date(2027, 2, 28)


def test_29_february_stays_on_29_february_in_2028() -> None:
    assert anniversary_in(2028, 2, 29) == date(2028, 2, 29)


def test_other_days_are_unchanged_in_any_year() -> None:
    assert anniversary_in(2027, 2, 28) == date(2027, 2, 28)
    assert anniversary_in(2027, 3, 1) == date(2027, 3, 1)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2027, 2, 28), True),
        (date(2027, 3, 1), False),
        (date(2028, 2, 28), False),
        (date(2028, 2, 29), True),
    ],
)
def test_a_29_february_birthday_occurs_once_a_year(on: date, expected: bool) -> None:
    assert occurs_on(2, 29, on) is expected


def test_a_29_february_birthday_fires_on_28_february_2027_at_nine_local() -> None:
    fired = next_birthday(2, 29, 9, AMSTERDAM, utc(2027, 1, 1))
    assert fired == utc(2027, 2, 28, 8)  # 09:00 CET
    assert fired.astimezone(AMSTERDAM).date() == date(2027, 2, 28)


def test_a_29_february_birthday_fires_on_29_february_2028() -> None:
    fired = next_birthday(2, 29, 9, AMSTERDAM, utc(2027, 3, 1))
    assert fired == utc(2028, 2, 29, 8)


def test_in_auckland_nine_on_the_birthday_is_the_evening_before_in_utc() -> None:
    """NZDT is UTC+13 in February: 09:00 on 28 February is 20:00 UTC on the 27th."""
    assert next_birthday(2, 29, 9, AUCKLAND, utc(2027, 1, 1)) == utc(2027, 2, 27, 20)


def test_in_auckland_the_same_birthday_in_winter_is_twelve_hours_ahead() -> None:
    """NZST is UTC+12 in July."""
    assert next_birthday(7, 15, 9, AUCKLAND, utc(2027, 1, 1)) == utc(2027, 7, 14, 21)


def test_a_birthday_already_past_this_year_fires_next_year() -> None:
    assert next_birthday(3, 10, 9, TOKYO, utc(2027, 3, 10, 1)) == utc(2028, 3, 10, 0)


def test_the_exact_moment_counts_as_not_yet_past() -> None:
    moment = utc(2027, 3, 10, 0)  # 09:00 in Tokyo
    assert next_birthday(3, 10, 9, TOKYO, moment) == moment


def test_a_birthday_at_an_hour_skipped_in_new_york_moves_past_the_gap() -> None:
    """On 14 March 2027 New York's clocks jump from 02:00 to 03:00: 02:00 is read as 03:00
    EDT, the first moment of that hour that exists."""
    fired = next_birthday(3, 14, 2, NEW_YORK, utc(2027, 1, 1))
    assert fired == utc(2027, 3, 14, 7)
    assert fired.astimezone(NEW_YORK).hour == 3


def test_a_birthday_at_a_repeated_hour_in_new_york_is_the_first_of_the_two() -> None:
    """On 7 November 2027 01:00–02:00 happens twice: the message goes at the first (EDT)."""
    assert next_birthday(11, 7, 1, NEW_YORK, utc(2027, 1, 1)) == utc(2027, 11, 7, 5)


def test_a_birthday_in_new_york_in_summer_and_winter_keeps_the_local_hour() -> None:
    assert next_birthday(7, 4, 9, NEW_YORK, utc(2027, 1, 1)) == utc(2027, 7, 4, 13)
    assert next_birthday(12, 4, 9, NEW_YORK, utc(2027, 1, 1)) == utc(2027, 12, 4, 14)


def test_a_birthday_at_the_hour_auckland_skips_moves_past_the_gap() -> None:
    """Auckland skips 02:00–03:00 on 26 September 2027."""
    fired = next_birthday(9, 26, 2, AUCKLAND, utc(2027, 1, 1))
    assert fired.astimezone(AUCKLAND).replace(tzinfo=None) == datetime(2027, 9, 26, 3)


def test_a_birthday_at_the_hour_auckland_repeats_is_the_first_of_the_two() -> None:
    """Auckland goes back from 03:00 to 02:00 on 4 April 2027; 02:30 NZDT is 13:30 UTC."""
    assert local_instant(date(2027, 4, 4), time(2, 30), AUCKLAND) == utc(2027, 4, 3, 13, 30)


def test_next_yearly_respects_the_first_year() -> None:
    assert next_yearly(5, 1, time(9), AMSTERDAM, utc(2020, 1, 1), 2030) == utc(2030, 5, 1, 7)


def test_a_joining_anniversary_comes_a_year_after_joining_at_the_earliest() -> None:
    joined = utc(2026, 5, 20, 12)
    assert next_joining_anniversary(joined, 9, AMSTERDAM, joined) == utc(2027, 5, 20, 7)


def test_a_joining_anniversary_uses_the_date_the_customer_s_clocks_showed() -> None:
    """23:30 UTC on 30 June is already 1 July in Auckland."""
    joined = utc(2026, 6, 30, 23, 30)
    fired = next_joining_anniversary(joined, 9, AUCKLAND, joined)
    assert fired.astimezone(AUCKLAND).date() == date(2027, 7, 1)


def test_joining_on_29_february_is_remembered_on_28_february() -> None:
    joined = utc(2024, 2, 29, 12)
    assert next_joining_anniversary(joined, 9, AMSTERDAM, joined) == utc(2025, 2, 28, 8)
    assert next_joining_anniversary(joined, 9, AMSTERDAM, utc(2027, 3, 1)) == utc(2028, 2, 29, 8)


def test_until_nine_on_a_weekday_from_friday_afternoon_is_monday_morning() -> None:
    friday = utc(2027, 6, 4, 14)  # 16:00 in Amsterdam
    monday = next_local_time(friday, AMSTERDAM, time(9), range(5))
    assert monday == utc(2027, 6, 7, 7)


def test_until_nine_is_strictly_later_so_time_always_moves_on() -> None:
    nine = utc(2027, 6, 4, 7)
    assert next_local_time(nine, AMSTERDAM, time(9)) == utc(2027, 6, 5, 7)


def test_until_nine_before_nine_is_the_same_morning() -> None:
    assert next_local_time(utc(2027, 6, 4, 5), AMSTERDAM, time(9)) == utc(2027, 6, 4, 7)


def test_until_nine_across_the_spring_change_in_new_york_keeps_nine_local() -> None:
    saturday = utc(2027, 3, 13, 17)  # 12:00 EST
    sunday = next_local_time(saturday, NEW_YORK, time(9))
    assert sunday == utc(2027, 3, 14, 13)  # 09:00 EDT, an hour earlier in UTC than the day before


def test_until_an_hour_skipped_that_night_comes_just_after_the_gap() -> None:
    saturday = utc(2027, 3, 13, 17)
    assert next_local_time(saturday, NEW_YORK, time(2, 30)) == utc(2027, 3, 14, 7, 30)


def test_until_nine_across_the_autumn_change_in_auckland_keeps_nine_local() -> None:
    before = utc(2027, 4, 3, 0)  # 13:00 NZDT on Saturday
    after = next_local_time(before, AUCKLAND, time(9))
    assert after.astimezone(AUCKLAND).replace(tzinfo=None) == datetime(2027, 4, 4, 9)
    assert after == utc(2027, 4, 3, 21)  # NZST, UTC+12


def test_until_with_no_weekday_is_refused() -> None:
    with pytest.raises(ValueError):
        next_local_time(utc(2027, 1, 1), AMSTERDAM, time(9), ())


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (time(20, 59), False),
        (time(21), True),
        (time(3), True),
        (time(7, 59), True),
        (time(8), False),
    ],
)
def test_quiet_hours_may_run_past_midnight(clock: time, quiet: bool) -> None:
    assert QuietHours(time(21), time(8)).covers(clock) is quiet


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(time(12), time(14))
    assert lunch.covers(time(13)) and not lunch.covers(time(14)) and not lunch.covers(time(11))


def test_inside_quiet_hours_the_window_ends_at_the_next_local_end() -> None:
    night = QuietHours(time(21), time(8))
    late = utc(2027, 6, 4, 21)  # 23:00 in Amsterdam
    assert night.ends_after(late, AMSTERDAM) == utc(2027, 6, 5, 6)


def test_outside_quiet_hours_nothing_waits() -> None:
    assert QuietHours(time(21), time(8)).ends_after(utc(2027, 6, 4, 10), AMSTERDAM) is None


def test_quiet_hours_are_read_on_the_customer_s_clock() -> None:
    """10:00 UTC is 22:00 in Auckland (NZST): quiet there, until 08:00 NZST."""
    night = QuietHours(time(21), time(8))
    assert night.ends_after(utc(2027, 6, 4, 10), AUCKLAND) == utc(2027, 6, 4, 20)


@pytest.mark.parametrize(("month", "day"), [(2, 29), (1, 31), (12, 31), (4, 30)])
def test_real_days_are_accepted_as_birthdays(month: int, day: int) -> None:
    check_month_day(month, day)


@pytest.mark.parametrize(("month", "day"), [(2, 30), (4, 31), (13, 1), (0, 5), (6, 0)])
def test_days_that_never_exist_are_refused(month: int, day: int) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_month_day(month, day)
    assert set(refused.value.errors) == {"birthday"}


def test_an_unknown_time_zone_is_refused_and_an_empty_one_is_utc() -> None:
    with pytest.raises(ValidationFailed) as refused:
        zone("Mars/Olympus_Mons")
    assert set(refused.value.errors) == {"timezone"}
    assert zone("") == ZoneInfo("UTC") and zone(None) == ZoneInfo("UTC")
    assert zone("Pacific/Auckland") == AUCKLAND
