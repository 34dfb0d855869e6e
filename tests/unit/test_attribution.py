"""Who referred whom (DESIGN invariant 1): the pure rule that decides a new participation's
referrer, and the payout chain read from its ancestor path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from referral.domain.attribution import (
    EXPIRED,
    NONE,
    REFERRED,
    REFERRER_INELIGIBLE,
    SELF_REFERRAL,
    UNKNOWN_CODE,
    Attribution,
    Referrer,
    ancestor_ids,
    attribute,
    chain,
)

NOW = datetime(2030, 5, 1, 12, tzinfo=UTC)
ADA = Referrer(id=7, campaign_id=1, customer_id=70, status="confirmed", visitor_hash="ada-phone")


def decide(**changes: Any) -> Attribution:
    """Grace (customer 80, on her own phone) joins campaign 1 with Ada's code, opened now."""
    given: dict[str, Any] = {
        "code": "adaCode1",
        "referrer": ADA,
        "campaign_id": 1,
        "customer_id": 80,
        "visitor_hash": "grace-phone",
        "touched_at": None,
        "now": NOW,
        "window_days": 30,
        **changes,
    }
    return attribute(**given)


def test_a_friend_with_a_valid_code_is_referred_by_its_owner() -> None:
    assert decide() == Attribution(ADA.id, REFERRED)


def test_no_code_means_no_referrer() -> None:
    assert decide(code=None) == Attribution(None, NONE)
    assert decide(code="") == Attribution(None, NONE)


def test_invariant_1_a_forest_never_a_cycle_a_code_of_another_campaign_refers_nobody() -> None:
    """The referrer belongs to the same campaign: a code from another campaign is unknown here."""
    assert decide(campaign_id=2) == Attribution(None, UNKNOWN_CODE)
    assert decide(referrer=None) == Attribution(None, UNKNOWN_CODE)


def test_invariant_1_a_forest_never_a_cycle_nobody_refers_themselves() -> None:
    """The same customer, or the same browser under another address, is no referral."""
    assert decide(customer_id=ADA.customer_id) == Attribution(None, SELF_REFERRAL)
    assert decide(visitor_hash=ADA.visitor_hash) == Attribution(None, SELF_REFERRAL)


def test_an_unknown_browser_is_not_taken_for_the_referrers_own() -> None:
    no_device = Referrer(id=7, campaign_id=1, customer_id=70, status="confirmed")
    assert decide(referrer=no_device, visitor_hash=None) == Attribution(7, REFERRED)


def test_a_rejected_referrer_refers_nobody() -> None:
    rejected = Referrer(id=7, campaign_id=1, customer_id=70, status="rejected")
    assert decide(referrer=rejected) == Attribution(None, REFERRER_INELIGIBLE)


@pytest.mark.parametrize("status", ["pending", "confirmed", "flagged"])
def test_a_referrer_who_is_not_rejected_may_refer(status: str) -> None:
    referrer = Referrer(id=7, campaign_id=1, customer_id=70, status=status)
    assert decide(referrer=referrer) == Attribution(7, REFERRED)


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(0), REFERRED),
        (timedelta(days=30), REFERRED),
        (timedelta(days=30, seconds=1), EXPIRED),
        (timedelta(days=365), EXPIRED),
    ],
)
def test_the_first_touch_counts_within_the_attribution_window(age: timedelta, status: str) -> None:
    assert decide(touched_at=NOW - age).status == status


def test_a_self_referral_is_named_before_an_expired_window() -> None:
    late = NOW - timedelta(days=90)
    assert decide(customer_id=70, touched_at=late).status == SELF_REFERRAL


@pytest.mark.parametrize(
    ("path", "ancestors"),
    [("/", []), ("/3/", [3]), ("/3/17/", [3, 17]), ("/3/17/40/", [3, 17, 40])],
)
def test_the_ancestor_path_lists_the_ancestors_root_first(path: str, ancestors: list[int]) -> None:
    assert ancestor_ids(path) == ancestors


def test_the_payout_chain_starts_at_the_actor_and_climbs_to_the_root() -> None:
    """Level 0 is the participation itself, level 1 its referrer, and so on up."""
    assert chain(41, "/3/17/40/") == [41, 40, 17, 3]
    assert chain(3, "/") == [3]
