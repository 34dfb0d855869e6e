"""The invariants the database itself holds, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain.codes import new_code
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    Event,
    LedgerEntry,
    Participation,
    RewardRule,
    Workspace,
)
from tests.factories import Factory

NOW = datetime.now(UTC)


def refused(row: Any) -> None:
    """Adding ``row`` fails in the database; the session is usable afterwards."""
    db.session.add(row)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def participation(campaign: Campaign, customer: Customer, **kw: Any) -> Participation:
    kw.setdefault("referral_code", new_code())
    kw.setdefault("depth", 1 if kw.get("referrer_id") else 0)
    return Participation(campaign_id=campaign.id, customer_id=customer.id, **kw)


def workspace_of(campaign: Campaign) -> Workspace:
    found = db.session.get(Workspace, campaign.workspace_id)
    assert found is not None
    return found


# Invariant 1: a forest, never a cycle


def test_invariant_1_a_forest_never_a_cycle_a_referrer_in_the_same_campaign_is_accepted(
    factory: Factory,
) -> None:
    campaign = factory.campaign()
    root = factory.participation(campaign)
    child = factory.participation(campaign, referrer=root)
    grandchild = factory.participation(campaign, referrer=child)
    db.session.expire_all()
    assert (grandchild.referrer_id, grandchild.depth, grandchild.path) == (
        child.id,
        2,
        f"/{root.id}/{child.id}/",
    )


def test_invariant_1_a_forest_never_a_cycle_referrer_in_same_campaign(factory: Factory) -> None:
    """Can a participation name a referrer from another campaign? Not even by a direct insert."""
    first = factory.campaign()
    other = factory.campaign(workspace_of(first))
    stranger = factory.participation(other)
    customer = factory.customer(workspace_of(first))
    refused(participation(first, customer, referrer_id=stranger.id, path=f"/{stranger.id}/"))
    assert (
        db.session.scalar(select(Participation).where(Participation.campaign_id == first.id))
        is None
    )


def test_invariant_1_a_forest_never_a_cycle_referrer_existed_before(factory: Factory) -> None:
    """Can a participation name a later one as its referrer (the first step of a cycle)? No."""
    campaign = factory.campaign()
    workspace = workspace_of(campaign)
    later = participation(campaign, factory.customer(workspace), id=1000)
    db.session.add(later)
    db.session.commit()
    earlier = participation(campaign, factory.customer(workspace), id=999, referrer_id=1000)
    refused(earlier)
    assert db.session.get(Participation, 999) is None


def test_invariant_1_a_forest_never_a_cycle_nobody_refers_themselves(factory: Factory) -> None:
    campaign = factory.campaign()
    row = participation(campaign, factory.customer(workspace_of(campaign)), id=500, referrer_id=500)
    refused(row)
    assert db.session.get(Participation, 500) is None


def test_invariant_1_a_forest_never_a_cycle_one_participation_per_customer_per_campaign(
    factory: Factory,
) -> None:
    campaign = factory.campaign()
    first = factory.participation(campaign)
    customer = db.session.get(Customer, first.customer_id)
    assert customer is not None
    refused(participation(campaign, customer))
    elsewhere = factory.campaign(workspace_of(campaign))
    factory.participation(elsewhere, customer=customer)  # another campaign: welcome


def test_invariant_1_a_forest_never_a_cycle_depth_matches_the_referrer(factory: Factory) -> None:
    campaign = factory.campaign()
    workspace = workspace_of(campaign)
    root = factory.participation(campaign)
    refused(participation(campaign, factory.customer(workspace), depth=1))
    refused(participation(campaign, factory.customer(workspace), referrer_id=root.id, depth=0))


def test_invariant_1_a_forest_never_a_cycle_the_referrer_is_never_rewritten(
    factory: Factory,
) -> None:
    """Can a participation be moved under another advocate after it joined? No."""
    campaign = factory.campaign()
    first, second = factory.participation(campaign), factory.participation(campaign)
    child = factory.participation(campaign, referrer=first)
    assert child.referrer_id == first.id  # loaded: the listener knows the old value
    child.referrer_id = second.id
    with pytest.raises(ValueError, match="referrer_id is fixed at creation"):
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Participation, child.id).referrer_id == first.id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "change",
    [
        {"referrer_id": "second"},
        {"depth": 5},
        {"path": "/elsewhere/"},
        {"campaign_id": "other_campaign"},
    ],
)
def test_invariant_1_a_forest_never_a_cycle_fixed_fields_stay_fixed_on_a_loaded_row(
    factory: Factory, change: dict[str, Any]
) -> None:
    campaign = factory.campaign()
    other_campaign = factory.campaign(workspace_of(campaign))
    first, second = factory.participation(campaign), factory.participation(campaign)
    child = factory.participation(campaign, referrer=first)
    db.session.refresh(child)
    name, value = next(iter(change.items()))
    value = {"second": second.id, "other_campaign": other_campaign.id}.get(value, value)
    setattr(child, name, value)
    with pytest.raises(ValueError, match="is fixed at creation"):
        db.session.flush()
    db.session.rollback()


def test_invariant_1_a_forest_never_a_cycle_the_referrer_is_never_rewritten_after_a_commit(
    factory: Factory,
) -> None:
    campaign = factory.campaign()
    first, second = factory.participation(campaign), factory.participation(campaign)
    child = factory.participation(campaign, referrer=first)  # committed, so expired
    child.referrer_id = second.id
    try:
        with pytest.raises(ValueError, match="referrer_id is fixed at creation"):
            db.session.flush()
    finally:
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Participation, child.id).referrer_id == first.id  # type: ignore[union-attr]


def test_invariant_1_a_forest_never_a_cycle_a_root_never_gains_a_referrer_later(
    factory: Factory,
) -> None:
    """Can someone who joined directly be attached under an advocate afterwards? No."""
    campaign = factory.campaign()
    earlier = factory.participation(campaign)
    root = factory.participation(campaign)
    root.referrer_id = earlier.id
    with pytest.raises((ValueError, IntegrityError)):
        db.session.flush()
    db.session.rollback()
    root.referrer_id, root.depth, root.path = earlier.id, 1, f"/{earlier.id}/"
    with pytest.raises(ValueError):
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Participation, root.id).referrer_id is None  # type: ignore[union-attr]


def test_invariant_1_a_forest_never_a_cycle_other_fields_stay_editable(factory: Factory) -> None:
    campaign = factory.campaign()
    child = factory.participation(campaign, referrer=factory.participation(campaign))
    child.status = "confirmed"
    child.confirmed_at = NOW
    child.flag_reasons = []
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Participation, child.id).status == "confirmed"  # type: ignore[union-attr]


# Customers: one per normalised e-mail in a workspace


def test_a_customer_email_is_unique_within_a_workspace(factory: Factory) -> None:
    workspace = factory.workspace()
    factory.customer(workspace, "anna@example.com")
    refused(Customer(workspace_id=workspace.id, email="anna@example.com", email_display="Anna@x"))


def test_the_same_email_may_be_a_customer_of_two_workspaces(factory: Factory) -> None:
    one, two = factory.workspace(), factory.workspace()
    factory.customer(one, "anna@example.com")
    factory.customer(two, "anna@example.com")
    emails = db.session.scalars(
        select(Customer.workspace_id).where(Customer.email == "anna@example.com")
    )
    assert sorted(emails) == sorted([one.id, two.id])


# Invariant 2: depth cap, as far as the database bounds it


@pytest.mark.parametrize("depth", [-1, 4])
def test_invariant_2_depth_cap_a_campaign_reward_depth_stays_within_0_and_3(
    factory: Factory, depth: int
) -> None:
    workspace = factory.workspace()
    refused(
        Campaign(
            workspace_id=workspace.id,
            name="x",
            slug=f"deep{depth}",
            kind="referral",
            reward_depth=depth,
        )
    )
    assert db.session.scalar(select(Campaign)) is None


@pytest.mark.parametrize("depth", [0, 3])
def test_invariant_2_depth_cap_a_campaign_reward_depth_of_0_to_3_is_stored(
    factory: Factory, depth: int
) -> None:
    assert factory.campaign(reward_depth=depth).reward_depth == depth


@pytest.mark.parametrize("level", [-1, 4])
def test_invariant_2_depth_cap_a_rule_level_stays_within_0_and_3(
    factory: Factory, level: int
) -> None:
    campaign = factory.campaign()
    refused(
        RewardRule(
            campaign_id=campaign.id, event="purchase", level=level, reward="points", amount=1
        )
    )


@pytest.mark.parametrize(
    ("event", "milestone"),
    [(None, None), ("purchase", 5), (None, 0), (None, -3)],
)
def test_invariant_2_depth_cap_a_rule_is_either_an_event_or_a_milestone(
    factory: Factory, event: str | None, milestone: int | None
) -> None:
    campaign = factory.campaign()
    refused(
        RewardRule(
            campaign_id=campaign.id,
            event=event,
            milestone=milestone,
            level=1,
            reward="points",
            amount=1,
        )
    )


def test_invariant_2_depth_cap_event_rules_and_milestone_rules_are_stored(factory: Factory) -> None:
    campaign = factory.campaign()
    db.session.add_all(
        [
            RewardRule(
                campaign_id=campaign.id, event="purchase", level=1, reward="points", amount=5
            ),
            RewardRule(campaign_id=campaign.id, milestone=5, level=1, reward="coupon", amount=0),
        ]
    )
    db.session.commit()
    assert len(db.session.scalars(select(RewardRule)).all()) == 2


def test_a_rule_amount_is_never_negative(factory: Factory) -> None:
    campaign = factory.campaign()
    refused(
        RewardRule(campaign_id=campaign.id, event="purchase", level=1, reward="points", amount=-1)
    )


def test_a_campaign_ends_after_it_starts(factory: Factory) -> None:
    workspace = factory.workspace()
    for ends_at in (NOW, NOW - timedelta(days=1)):
        refused(
            Campaign(
                workspace_id=workspace.id,
                name="x",
                slug="dates",
                kind="referral",
                starts_at=NOW,
                ends_at=ends_at,
            )
        )
    assert factory.campaign(workspace, starts_at=NOW, ends_at=NOW + timedelta(days=1)).id


# Invariant 3: pay once


def ledger_entry(payee: Participation, event: Event, rule: RewardRule, level: int) -> LedgerEntry:
    return LedgerEntry(
        participation_id=payee.id,
        source_event_id=event.id,
        rule_id=rule.id,
        level=level,
        reward=rule.reward,
        amount=rule.amount,
    )


@pytest.fixture
def purchase(
    factory: Factory,
) -> tuple[Participation, Participation, Event, RewardRule, RewardRule]:
    campaign = factory.campaign(reward_depth=2)
    referrer = factory.participation(campaign)
    buyer = factory.participation(campaign, referrer=referrer)
    event = Event(
        workspace_id=campaign.workspace_id,
        customer_id=buyer.customer_id,
        campaign_id=campaign.id,
        participation_id=buyer.id,
        kind="purchase",
        amount=2499,
        currency="EUR",
        occurred_at=NOW,
    )
    rule = RewardRule(
        campaign_id=campaign.id, event="purchase", level=1, reward="points", amount=500
    )
    actor_rule = RewardRule(
        campaign_id=campaign.id, event="purchase", level=0, reward="points", amount=50
    )
    db.session.add_all([event, rule, actor_rule])
    db.session.commit()
    return referrer, buyer, event, rule, actor_rule


def test_invariant_3_pay_once_the_same_payment_is_stored_once(
    purchase: tuple[Participation, Participation, Event, RewardRule, RewardRule],
) -> None:
    referrer, _, event, rule, _ = purchase
    db.session.add(ledger_entry(referrer, event, rule, 1))
    db.session.commit()
    refused(ledger_entry(referrer, event, rule, 1))
    assert len(db.session.scalars(select(LedgerEntry)).all()) == 1


def test_invariant_3_pay_once_different_payees_rules_and_events_each_pay(
    purchase: tuple[Participation, Participation, Event, RewardRule, RewardRule],
) -> None:
    referrer, buyer, event, rule, actor_rule = purchase
    second = Event(
        workspace_id=event.workspace_id,
        customer_id=buyer.customer_id,
        campaign_id=event.campaign_id,
        participation_id=buyer.id,
        kind="purchase",
        amount=999,
        currency="EUR",
        occurred_at=NOW,
    )
    db.session.add(second)
    db.session.commit()
    db.session.add_all(
        [
            ledger_entry(referrer, event, rule, 1),
            ledger_entry(buyer, event, actor_rule, 0),
            ledger_entry(referrer, second, rule, 1),
        ]
    )
    db.session.commit()
    assert len(db.session.scalars(select(LedgerEntry)).all()) == 3


@pytest.mark.parametrize("level", [-1, 4])
def test_invariant_3_pay_once_a_ledger_level_stays_within_0_and_3(
    purchase: tuple[Participation, Participation, Event, RewardRule, RewardRule], level: int
) -> None:
    referrer, _, event, rule, _ = purchase
    refused(ledger_entry(referrer, event, rule, level))
