"""Journeys that start on a date or on silence, entered by a sweep rather than an event.

- **Birthdays** (``date: birthday``): at the trigger's hour on the customer's clock, on
  their birthday (month and day only; 29 February on 28 February in other years).
- **Joining anniversaries** (``date: joined``): at that hour on the date their clock showed
  when they joined (their participation in the journey's campaign, else the customer
  record), a year later at the earliest.
- **Inactivity** (``inactivity: days``): when the customer's latest event (in the
  journey's campaign, when it has one) is that many days old.

The sweep looks back ``LOOK_BACK`` (a day): run at least that often (the worker runs it
every quarter of an hour), every occasion is entered once, at the moment it fell due; an
occasion missed by a longer outage is not sent late. Entry keys (``entry_key``) make a
sweep that runs again, or twice at once, enter nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, extract, func, or_, select

from referral.domain.journey_dates import local_date, next_birthday, next_joining_anniversary
from referral.domain.journeys import DateTrigger, Definition, InactivityTrigger, entry_key
from referral.extensions import db
from referral.models import Campaign, Customer, Event, Participation
from referral.models.base import utcnow
from referral.models.journey import Journey
from referral.services.journey_enrolment import enter, running_journeys
from referral.services.journey_facts import customer_zone
from referral.services.journeys import parsed
from referral.services.tx import atomic

LOOK_BACK = timedelta(days=1)
# Local dates differ from UTC ones by at most 14 hours: the (month, day) pairs worth loading.
ZONE_SPREAD = timedelta(hours=14)


@atomic
def enrol_occasions(now: datetime | None = None) -> int:
    """Enter every customer whose birthday, joining anniversary or silence fell due in the
    last day into the running journeys it starts; returns how many entered."""
    now = now or utcnow()
    entered = 0
    for journey in running_journeys(None, "date"):
        entered += _dates(journey, parsed(journey.definition), now)
    for journey in running_journeys(None, "inactivity"):
        entered += _silences(journey, parsed(journey.definition), now)
    return entered


def _month_days(now: datetime) -> set[tuple[int, int]]:
    """The (month, day) pairs some clock shows in the look-back window (and 29 February
    whenever 28 February is one of them)."""
    first = (now - LOOK_BACK - ZONE_SPREAD).date()
    last = (now + ZONE_SPREAD).date()
    pairs = {(d.month, d.day) for d in _days(first, last)}
    if (2, 28) in pairs:
        pairs.add((2, 29))
    return pairs


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _on(month: Any, day: Any, pairs: set[tuple[int, int]]) -> ColumnElement[bool]:
    return or_(*(and_(month == m, day == d) for m, d in sorted(pairs)))


def _people(journey: Journey) -> Select[Any]:
    """Customers of the journey's workspace (of its campaign, when it has one), not erased,
    with the moment they joined."""
    if journey.campaign_id is None:
        return select(Customer, Customer.created_at).where(
            Customer.workspace_id == journey.workspace_id, Customer.erased_at.is_(None)
        )
    return (
        select(Customer, Participation.created_at)
        .join(Participation, Participation.customer_id == Customer.id)
        .where(Participation.campaign_id == journey.campaign_id, Customer.erased_at.is_(None))
    )


def _dates(journey: Journey, definition: Definition, now: datetime) -> int:
    trigger = definition.trigger
    assert isinstance(trigger, DateTrigger)
    pairs = _month_days(now)
    query = _people(journey)
    if trigger.date == "birthday":
        query = query.where(_on(Customer.birthday_month, Customer.birthday_day, pairs))
    else:
        joined = Customer.created_at if journey.campaign_id is None else Participation.created_at
        query = query.where(_on(extract("month", joined), extract("day", joined), pairs))
    campaign = db.session.get(Campaign, journey.campaign_id) if journey.campaign_id else None
    entered = 0
    for customer, joined_at in db.session.execute(query):
        tz = customer_zone(customer, campaign)
        if trigger.date == "birthday":
            month, day = int(customer.birthday_month), int(customer.birthday_day)
            due = next_birthday(month, day, trigger.hour, tz, now - LOOK_BACK)
        else:
            due = next_joining_anniversary(joined_at, trigger.hour, tz, now - LOOK_BACK)
        if due <= now:
            key = entry_key(definition.reentry, on=local_date(due, tz))
            entered += _enter(journey, definition, customer, key, due)
    return entered


def _silences(journey: Journey, definition: Definition, now: datetime) -> int:
    """Customers whose latest event is ``days`` old (within the look-back window)."""
    trigger = definition.trigger
    assert isinstance(trigger, InactivityTrigger)
    silence = timedelta(days=trigger.days)
    latest = func.max(Event.occurred_at)
    query = select(Event.customer_id, latest).where(Event.workspace_id == journey.workspace_id)
    if journey.campaign_id is not None:
        query = query.where(Event.campaign_id == journey.campaign_id)
    query = query.group_by(Event.customer_id).having(
        latest > now - silence - LOOK_BACK, latest <= now - silence
    )
    entered = 0
    for customer_id, last in db.session.execute(query):
        customer = db.session.get(Customer, customer_id)
        if customer is None or customer.erased_at is not None:
            continue
        due = _aware(last) + silence
        key = entry_key(definition.reentry, on=due.date())
        entered += _enter(journey, definition, customer, key, due)
    return entered


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _enter(
    journey: Journey, definition: Definition, customer: Customer, key: str, due: datetime
) -> int:
    participation_id = None
    if journey.campaign_id is not None:
        participation_id = db.session.scalar(
            select(Participation.id).where(
                Participation.customer_id == customer.id,
                Participation.campaign_id == journey.campaign_id,
            )
        )
    ident = enter(journey, definition, customer.id, key, due, participation_id=participation_id)
    return 1 if ident is not None else 0
