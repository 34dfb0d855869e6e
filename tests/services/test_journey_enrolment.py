"""Entering journeys: saved definitions and their versions, enrolment when an event is
recorded (once, every time, once a year), the unique entry key under concurrent events,
tags, and the sweep for birthdays, anniversaries and silences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain.errors import Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Customer, Event
from referral.models.journey import CustomerTag, JourneyVersion
from referral.services import journeys
from referral.services.journey_enrolment import enrol_for_event
from referral.services.journey_occasions import enrol_occasions
from referral.services.journey_tags import add_tag, remove_tag
from tests.concurrency import race
from tests.factories import Factory
from tests.services.journey_setup import DAY, T0, Shop, end, enrolments, send


def test_a_definition_is_saved_as_version_one_and_each_change_is_a_new_version(
    shop: Shop,
) -> None:
    journey = shop.journey([send("hello"), end()])
    assert (journey.version, journey.status, journey.trigger_kind) == (
        1,
        "running",
        "signup_confirmed",
    )
    changed = {**journey.definition, "trigger": {"type": "event", "event": "purchase"}}
    journeys.update_journey(journey, definition=changed)
    journeys.update_journey(journey, definition=changed)  # the same again: no new version
    journeys.update_journey(journey, name="Thanks for buying")
    db.session.rollback()
    versions = db.session.scalars(
        select(JourneyVersion.version).where(JourneyVersion.journey_id == journey.id)
    ).all()
    assert (journey.version, journey.trigger_kind, journey.name) == (
        2,
        "purchase",
        "Thanks for buying",
    )
    assert sorted(versions) == [1, 2]


def test_a_bad_definition_answers_422_naming_the_faulty_step_and_stores_nothing(
    shop: Shop,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        shop.journey([send("hello", template="no_such_template"), end()])
    assert caught.value.status == 422
    assert "steps.hello" in caught.value.messages
    assert caught.value.params == {"step": "hello"}
    assert journeys.list_journeys(shop.workspace_id) == []


def test_an_edit_with_a_bad_definition_changes_nothing(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    with pytest.raises(ValidationFailed):
        journeys.update_journey(journey, name="New name", definition={"steps": []})
    db.session.rollback()
    assert (journey.version, journey.name) == (1, "Welcome")


def test_a_journey_of_another_workspace_is_not_found(shop: Shop, factory: Factory) -> None:
    journey = shop.journey([send("hello"), end()])
    other = factory.workspace()
    with pytest.raises(NotFound):
        journeys.get_journey(other.id, journey.id)
    assert journeys.list_journeys(other.id) == []
    assert journeys.get_journey(shop.workspace_id, journey.id).id == journey.id


def test_a_campaign_of_another_workspace_cannot_be_chosen(shop: Shop, factory: Factory) -> None:
    foreign = factory.campaign()
    with pytest.raises(ValidationFailed) as caught:
        journeys.create_journey(
            shop.workspace_id,
            "X",
            {"trigger": {"type": "event", "event": "purchase"}, "steps": [end()]},
            campaign_id=foreign.id,
        )
    assert "campaign_id" in caught.value.messages


def test_an_event_enrols_a_once_journey_once(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    shop.event(anna, "signup_confirmed", T0 + DAY)
    [enrolment] = enrolments(journey)
    assert (enrolment.entry_key, enrolment.step, enrolment.status) == ("once", "hello", "active")
    assert enrolment.next_run_at == T0 and enrolment.participation_id == anna.id


def test_every_time_enrols_once_per_event(shop: Shop) -> None:
    journey = shop.journey(
        [send("thanks"), end()],
        trigger={"type": "event", "event": "purchase"},
        reentry="every_time",
    )
    anna = shop.person()
    first = shop.event(anna, "purchase")
    second = shop.event(anna, "purchase", T0 + DAY)
    shop.event(anna, "signup_confirmed")  # another kind starts nothing
    keys = [e.entry_key for e in enrolments(journey)]
    assert keys == [f"event:{first.id}", f"event:{second.id}"]


def test_enrolling_again_for_the_same_event_is_blocked_by_the_entry_key(shop: Shop) -> None:
    journey = shop.journey(
        [send("thanks"), end()],
        trigger={"type": "event", "event": "purchase"},
        reentry="every_time",
    )
    anna = shop.person()
    event = shop.event(anna, "purchase")
    assert enrol_for_event(event, now=T0) == []  # the same event processed again
    db.session.commit()
    assert len(enrolments(journey)) == 1


def test_draft_and_paused_journeys_enrol_nobody(shop: Shop) -> None:
    draft = shop.journey([send("hello"), end()], status="draft")
    paused = shop.journey([send("hello"), end()])
    journeys.pause_journey(paused)
    mine = shop.journey([send("hello"), end()], campaign=True)
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    assert enrolments(draft) == [] and enrolments(paused) == []
    assert len(enrolments(mine)) == 1


def test_a_campaign_journey_ignores_the_events_of_other_campaigns(
    shop: Shop, factory: Factory
) -> None:
    journey = shop.journey([send("hello"), end()], campaign=True)
    elsewhere = Shop(factory, factory.campaign())
    bob = elsewhere.person()
    elsewhere.event(bob, "signup_confirmed")
    assert enrolments(journey) == []


def test_pausing_only_a_running_journey_and_resuming_it(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()], status="draft")
    with pytest.raises(Conflict):
        journeys.pause_journey(journey)
    journeys.resume_journey(journey)
    journeys.pause_journey(journey)
    assert journey.status == "paused"
    journeys.resume_journey(journey)
    assert journey.status == "running"


def test_concurrent_events_enrol_a_once_journey_once(app: Flask, shop: Shop) -> None:
    """Can two events recorded at the same moment put one customer in twice?"""
    journey = shop.journey([send("hello"), end()])
    anna = shop.person()
    ids = (anna.id, anna.customer_id, anna.campaign_id, shop.workspace_id)

    def record(i: int) -> None:
        participation_id, customer_id, campaign_id, workspace_id = ids
        event = Event(
            workspace_id=workspace_id,
            customer_id=customer_id,
            campaign_id=campaign_id,
            participation_id=participation_id,
            kind="signup_confirmed",
            occurred_at=T0,
            external_id=f"signup-{i}",
        )
        db.session.add(event)
        enrol_for_event(event, now=T0)
        db.session.commit()

    assert race(app, 4, record) == []
    assert len(enrolments(journey)) == 1


def test_adding_a_tag_starts_the_journeys_of_that_tag_once(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()], trigger={"type": "tag_added", "tag": "vip"})
    anna = shop.person()
    customer = db.session.get(Customer, anna.customer_id)
    assert add_tag(customer, " vip ", T0) is True
    assert add_tag(customer, "vip", T0) is False
    assert remove_tag(customer, "vip") is True
    assert add_tag(customer, "vip", T0 + DAY) is True  # once: not a second time
    assert add_tag(customer, "other", T0) is True
    assert len(enrolments(journey)) == 1
    tags = db.session.scalars(select(CustomerTag.tag).order_by(CustomerTag.tag)).all()
    assert tags == ["other", "vip"]
    with pytest.raises(ValidationFailed):
        add_tag(customer, "")


def birthday_journey(shop: Shop, hour: int = 9) -> object:
    return shop.journey(
        [send("hello"), end()], trigger={"type": "date", "date": "birthday", "hour": hour}
    )


def test_a_birthday_enrols_at_the_local_hour_once_a_year(shop: Shop) -> None:
    journey = birthday_journey(shop)
    shop.person(birthday_month=3, birthday_day=2, timezone="Europe/Amsterdam")
    shop.person(birthday_month=3, birthday_day=5)  # not today
    shop.person(consent=True)  # no birthday given
    before = datetime(2026, 3, 2, 7, 59, tzinfo=UTC)  # 08:59 in Amsterdam
    assert enrol_occasions(before) == 0
    at_nine = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert enrol_occasions(at_nine) == 1
    assert enrol_occasions(at_nine + timedelta(minutes=15)) == 0  # the sweep again
    [enrolment] = enrolments(journey)
    assert (enrolment.entry_key, enrolment.entered_at) == ("2026", at_nine)
    assert enrol_occasions(datetime(2027, 3, 2, 8, 0, tzinfo=UTC)) == 1  # a year later
    assert [e.entry_key for e in enrolments(journey)] == ["2026", "2027"]


def test_a_birthday_on_29_february_is_kept_on_28_february(shop: Shop) -> None:
    journey = birthday_journey(shop)
    shop.person(birthday_month=2, birthday_day=29, timezone="America/New_York")
    assert enrol_occasions(datetime(2027, 2, 28, 13, 59, tzinfo=UTC)) == 0  # 08:59 EST
    assert enrol_occasions(datetime(2027, 2, 28, 14, 0, tzinfo=UTC)) == 1
    assert enrol_occasions(datetime(2028, 2, 28, 14, 0, tzinfo=UTC)) == 0  # a leap year
    assert enrol_occasions(datetime(2028, 2, 29, 14, 0, tzinfo=UTC)) == 1
    assert [e.entry_key for e in enrolments(journey)] == ["2027", "2028"]


def test_a_birthday_missed_by_more_than_a_day_is_not_sent_late(shop: Shop) -> None:
    journey = birthday_journey(shop)
    shop.person(birthday_month=3, birthday_day=2)
    assert enrol_occasions(datetime(2026, 3, 3, 9, 1, tzinfo=UTC)) == 0
    assert enrolments(journey) == []


def test_a_joining_anniversary_enrols_a_year_after_joining(shop: Shop) -> None:
    journey = shop.journey(
        [send("hello"), end()], trigger={"type": "date", "date": "joined", "hour": 10}
    )
    anna = shop.person()
    customer = db.session.get(Customer, anna.customer_id)
    customer.created_at = datetime(2025, 3, 2, 18, 0, tzinfo=UTC)
    db.session.commit()
    assert enrol_occasions(datetime(2026, 3, 2, 9, 59, tzinfo=UTC)) == 0
    assert enrol_occasions(datetime(2026, 3, 2, 10, 0, tzinfo=UTC)) == 1
    assert [e.entry_key for e in enrolments(journey)] == ["2026"]


def test_silence_enrols_once_the_latest_event_is_old_enough(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()], trigger={"type": "inactivity", "days": 30})
    quiet, busy = shop.person(), shop.person()
    shop.event(quiet, "purchase", T0)
    shop.event(busy, "purchase", T0)
    shop.event(busy, "purchase", T0 + timedelta(days=20))
    assert enrol_occasions(T0 + timedelta(days=29)) == 0
    assert enrol_occasions(T0 + timedelta(days=30, hours=1)) == 1
    [enrolment] = enrolments(journey)
    assert enrolment.customer_id == quiet.customer_id
    assert enrolment.entered_at == T0 + timedelta(days=30)


def test_a_duplicate_event_in_the_callers_savepoint_enrols_nobody(shop: Shop) -> None:
    """Recording enrols in the recording transaction: an event refused as a repeat (its
    savepoint rolled back) leaves no enrolment behind."""
    journey = shop.journey(
        [send("thanks"), end()],
        trigger={"type": "event", "event": "purchase"},
        reentry="every_time",
    )
    anna = shop.person()

    def purchase() -> Event:
        return Event(
            workspace_id=shop.workspace_id,
            customer_id=anna.customer_id,
            campaign_id=anna.campaign_id,
            participation_id=anna.id,
            kind="purchase",
            external_id="order-1",
            occurred_at=T0,
        )

    recorded = []
    for _attempt in range(2):
        try:
            with db.session.begin_nested():
                event = purchase()
                db.session.add(event)
                enrol_for_event(event, now=T0)
            recorded.append(event.id)
        except IntegrityError:
            pass
        db.session.commit()
    assert len(recorded) == 1
    assert [e.entry_key for e in enrolments(journey)] == [f"event:{recorded[0]}"]
