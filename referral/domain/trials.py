"""Free-trial rules: the trial's length, when it ends and when the reminder is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from referral.domain.errors import N_, ValidationFailed

DAYS_MAX = 365
REMINDER_DAYS_MAX = 60
DEFAULT_DAYS = 14
DEFAULT_REMINDER_DAYS = 3


@dataclass(frozen=True)
class TrialSettings:
    """``days`` of trial; the reminder goes ``reminder_days`` before the end (0: none)."""

    days: int = DEFAULT_DAYS
    reminder_days: int = DEFAULT_REMINDER_DAYS


@dataclass(frozen=True)
class Window:
    started_at: datetime
    ends_at: datetime
    reminder_at: datetime | None


def settings_of(raw: dict[str, Any] | None) -> TrialSettings:
    """A campaign's stored trial settings, with defaults for what is missing or broken."""
    raw = raw or {}
    days = raw.get("days")
    reminder = raw.get("reminder_days")
    days = days if isinstance(days, int) and 1 <= days <= DAYS_MAX else DEFAULT_DAYS
    if not (isinstance(reminder, int) and 0 <= reminder < days):
        reminder = min(DEFAULT_REMINDER_DAYS, days - 1)
    return TrialSettings(days, reminder)


def clean_settings(days: Any, reminder_days: Any) -> TrialSettings:
    """Validate a marketer's trial settings.

    :raise ValidationFailed: ``days`` not 1..365, or ``reminder_days`` not 0..60 and shorter
        than the trial (a reminder on the first day or before would be nonsense).
    """
    errors: dict[str, list[Any]] = {}
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= DAYS_MAX:
        errors["days"] = [N_("A trial lasts from 1 to 365 days.")]
    if (
        isinstance(reminder_days, bool)
        or not isinstance(reminder_days, int)
        or not 0 <= reminder_days <= REMINDER_DAYS_MAX
    ):
        errors["reminder_days"] = [N_("Give from 0 to 60 days (0: no reminder).")]
    elif "days" not in errors and reminder_days >= days:
        errors["reminder_days"] = [N_("The reminder must come before the trial ends.")]
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return TrialSettings(days, reminder_days)


def window(settings: TrialSettings, started_at: datetime) -> Window:
    """A trial starting at ``started_at`` ends ``days`` later to the second; its reminder is
    due ``reminder_days`` before the end (none when 0)."""
    ends_at = started_at + timedelta(days=settings.days)
    reminder_at = (
        ends_at - timedelta(days=settings.reminder_days) if settings.reminder_days else None
    )
    return Window(started_at, ends_at, reminder_at)


def state(ends_at: datetime, converted: bool, now: datetime) -> str:
    """``converted``, ``active`` (still running) or ``ended`` (ran out unconverted)."""
    if converted:
        return "converted"
    return "active" if now < ends_at else "ended"
