"""A journey's grant step pays through the reward machinery: a ledger line at level 0 in
the customer's participation, a ``reward_granted`` event on their timeline and the
``reward.granted`` webhook, once per enrolment, step and visit whoever runs it; nothing for
an erased customer, a closed campaign, someone without a participation or unconfirmed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Customer, Event, LedgerEntry, Participation, Workspace
from referral.models.journey import Journey, JourneyEnrolment
from referral.models.webhooks import WebhookDelivery
from referral.services import journey_effects, rewards, webhooks
from referral.services.journey_facts import seen_events, subject_of
from referral.services.journey_runner import Walk, run_due
from referral.services.journeys import definition_of
from referral.services.privacy import erase_customer
from tests.services.journey_setup import T0, Shop, end, enrolments, outcomes, send

GIFT = {"id": "gift", "type": "grant", "reward": "points", "amount": 250}


def grant_journey(shop: Shop, *steps: dict[str, Any], campaign: bool = True) -> Journey:
    return shop.journey([GIFT, *steps, end()], campaign=campaign)


def ledger() -> list[LedgerEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))


def walk_of(enrolment: JourneyEnrolment) -> Walk:
    """The walk a runner would take for ``enrolment`` now (to apply one step twice)."""
    journey = db.session.get_one(Journey, enrolment.journey_id)
    definition = definition_of(journey.id, enrolment.version)
    subject = subject_of(enrolment)
    return Walk(enrolment, journey, definition, subject, seen_events(enrolment, definition), T0)


def gift_step(journey: Journey) -> Any:
    return definition_of(journey.id, journey.version).step("gift")


def test_a_grant_pays_the_customer_itself_through_the_ledger_and_their_timeline(
    shop: Shop,
) -> None:
    workspace = db.session.get_one(Workspace, shop.workspace_id)
    webhooks.create_endpoint(workspace, "https://hooks.example.org/in", ["reward.granted"])
    db.session.commit()
    friend = shop.person(name="Ben Friend")
    anna = shop.person(referrer=friend)
    journey = grant_journey(shop, send("hello"))
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:3] == [("gift", "granted"), ("hello", "sent")]
    [entry] = ledger()
    assert (entry.participation_id, entry.level, entry.reward, entry.amount) == (
        anna.id,
        0,
        "points",
        250,
    )
    assert (entry.rule_id, entry.status) == (None, "approved")
    assert entry.source_key == f"journey:{enrolment.id}:gift:1"
    assert rewards.points(anna.id) == 250
    assert rewards.points(friend.id) == 0  # a journey never pays up the chain
    source = db.session.get_one(Event, entry.source_event_id)
    assert (source.kind, source.participation_id, source.amount) == ("reward_granted", anna.id, 250)
    assert source.external_id == entry.source_key
    assert source.data["journey"] == {"journey_id": journey.id, "step": "gift", "visit": 1}
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.event == "reward.granted"
    assert delivery.payload["data"]["reward"]["rule_id"] is None
    assert delivery.payload["data"]["reward"]["amount"] == 250


def test_the_same_step_run_twice_pays_once(shop: Shop) -> None:
    anna = shop.person()
    journey = grant_journey(shop)
    shop.event(anna, "signup_confirmed")
    [enrolment] = enrolments(journey)
    step = gift_step(journey)
    first = journey_effects.apply(walk_of(enrolment), step, 1)
    db.session.commit()
    again = journey_effects.apply(walk_of(enrolment), step, 1)
    db.session.commit()
    assert (first.outcome, again.outcome) == ("granted", "granted")
    assert first.detail["ledger_entry_id"] == again.detail["ledger_entry_id"]
    assert len(ledger()) == 1
    assert rewards.points(anna.id) == 250
    rewarded = db.session.scalar(
        select(func.count()).where(
            Event.kind == "reward_granted", Event.customer_id == anna.customer_id
        )
    )
    assert rewarded == 1


def test_the_database_refuses_a_second_payment_of_the_same_key(shop: Shop) -> None:
    anna = shop.person()
    campaign = db.session.get_one(Campaign, shop.campaign.id)
    key = "journey:1:gift:1"
    assert rewards.grant(anna, campaign, "points", 10, key) is not None
    db.session.commit()
    assert rewards.grant(anna, campaign, "points", 10, key) is None
    db.session.commit()
    assert [(e.source_key, e.amount) for e in ledger()] == [(key, 10)]


def test_each_visit_of_a_grant_in_a_loop_pays_again(shop: Shop) -> None:
    anna = shop.person()
    journey = grant_journey(shop)
    shop.event(anna, "signup_confirmed")
    [enrolment] = enrolments(journey)
    step = gift_step(journey)
    for visit in (1, 2, 2):
        journey_effects.apply(walk_of(enrolment), step, visit)
        db.session.commit()
    assert [e.source_key for e in ledger()] == [
        f"journey:{enrolment.id}:gift:1",
        f"journey:{enrolment.id}:gift:2",
    ]


def test_a_later_branch_sees_the_points_granted(shop: Shop) -> None:
    anna = shop.person()
    branch = {
        "id": "rich",
        "type": "branch",
        "cases": [{"when": [{"on": "points", "op": "gte", "value": 250}], "next": "vip"}],
        "else": "regular",
    }
    journey = grant_journey(
        shop, branch, send("vip", "vip", next="end"), send("regular", "regular", next="end")
    )
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert [step for step, _ in outcomes(enrolment)][1:4] == ["gift", "rich", "vip"]


def test_an_erased_customer_is_granted_nothing(shop: Shop) -> None:
    anna = shop.person()
    journey = grant_journey(shop)
    shop.event(anna, "signup_confirmed")
    [enrolment] = enrolments(journey)
    walk = walk_of(enrolment)
    erase_customer(db.session.get_one(Customer, anna.customer_id))
    db.session.refresh(walk.subject.customer)
    outcome = journey_effects.apply(walk, gift_step(journey), 1)
    db.session.commit()
    assert outcome.outcome == "skipped:erased"
    assert run_due(T0) == 0  # the erasure ended the enrolment
    assert enrolments(journey)[0].status == "exited"
    assert ledger() == []


def test_a_closed_campaign_is_granted_nothing(shop: Shop) -> None:
    anna = shop.person()
    journey = grant_journey(shop, send("hello"))
    shop.event(anna, "signup_confirmed")
    db.session.get_one(Campaign, shop.campaign.id).status = "closed"
    db.session.commit()
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:3] == [("gift", "skipped:campaign_closed"), ("hello", "sent")]
    assert ledger() == []


def test_without_a_participation_in_the_journeys_campaign_nothing_is_granted(
    shop: Shop,
) -> None:
    anna = shop.person()
    journey = grant_journey(shop, campaign=False)
    shop.event(anna, "signup_confirmed")
    [enrolment] = enrolments(journey)
    other = shop.factory.campaign(
        db.session.get_one(Workspace, shop.workspace_id), status="live", slug="autumn"
    )
    db.session.get_one(Journey, journey.id).campaign_id = other.id
    enrolment.participation_id = None
    db.session.commit()
    outcome = journey_effects.apply(walk_of(enrolment), gift_step(journey), 1)
    assert outcome.outcome == "skipped:no_participation"
    db.session.rollback()
    assert ledger() == []


def test_a_workspace_journey_pays_the_customers_latest_payable_participation(
    shop: Shop,
) -> None:
    anna = shop.person()
    journey = grant_journey(shop, campaign=False)
    shop.event(anna, "signup_confirmed")
    [enrolment] = enrolments(journey)
    enrolment.participation_id = None
    db.session.commit()
    outcome = journey_effects.apply(walk_of(enrolment), gift_step(journey), 1)
    db.session.commit()
    assert outcome.outcome == "granted"
    assert [e.participation_id for e in ledger()] == [anna.id]


def test_a_workspace_journey_for_a_customer_without_any_participation_grants_nothing(
    shop: Shop,
) -> None:
    anna = shop.person()
    journey = grant_journey(shop, campaign=False)
    shop.event(anna, "signup_confirmed")
    [enrolment] = enrolments(journey)
    enrolment.participation_id = None
    db.session.delete(db.session.get_one(Participation, anna.id))
    db.session.commit()
    outcome = journey_effects.apply(walk_of(enrolment), gift_step(journey), 1)
    assert outcome.outcome == "skipped:no_participation"


def test_no_grant_before_double_opt_in(shop: Shop) -> None:
    anna = shop.person()
    journey = grant_journey(shop)
    shop.event(anna, "signup_confirmed")
    participation = db.session.get_one(Participation, anna.id)
    participation.status, participation.confirmed_at = "pending", None
    db.session.commit()
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1] == ("gift", "skipped:unconfirmed")
    assert ledger() == []


def test_a_held_campaign_grants_a_pending_reward(shop: Shop) -> None:
    anna = shop.person()
    grant_journey(shop)
    db.session.get_one(Campaign, shop.campaign.id).hold_days = 3
    db.session.commit()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [entry] = ledger()
    assert (entry.status, entry.approve_after is not None) == ("pending", True)


def test_a_grant_of_entries_or_cash_or_an_unknown_reward_is_refused_when_saved(
    shop: Shop,
) -> None:
    for reward in ("entries", "cash", "birthday_coupon"):
        step = {**GIFT, "reward": reward}
        with pytest.raises(ValidationFailed) as refused:
            shop.journey([step, end()])
        assert refused.value.errors == {"steps.gift": [f"There is no reward {reward}."]}
