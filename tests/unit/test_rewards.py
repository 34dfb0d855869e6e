"""Who an event pays (``domain.rewards``): double opt-in, and level 0 of a referral event."""

from __future__ import annotations

import pytest

from referral.domain.errors import Conflict
from referral.domain.rewards import (
    NOT_CONFIRMED,
    NotConfirmed,
    Rule,
    check_opted_in,
    event_payouts,
    milestone_payouts,
)

SIGNUP = [
    Rule(1, "signup_confirmed", None, 0, "points", 50),
    Rule(2, "signup_confirmed", None, 1, "points", 100),
]
PURCHASE = [
    Rule(3, "purchase", None, 0, "points", 10),
    Rule(4, "purchase", None, 1, "points", 100),
    Rule(5, "purchase", None, 2, "points", 1000),
]


def paid(kind: str, chain: list[int], opted_in: set[int], rules: list[Rule]) -> set[tuple]:
    return {
        (p.beneficiary_id, p.level, p.amount)
        for p in event_payouts(kind, chain, rules, reward_depth=2, ceiling=2, opted_in=opted_in)
    }


def test_an_unconfirmed_actor_pays_no_one() -> None:
    assert paid("purchase", [3, 2, 1], {2, 1}, PURCHASE) == set()


def test_a_confirmed_actor_pays_the_confirmed_chain() -> None:
    assert paid("purchase", [3, 2, 1], {3, 2, 1}, PURCHASE) == {
        (3, 0, 10),
        (2, 1, 100),
        (1, 2, 1000),
    }


def test_a_referrer_who_has_not_confirmed_receives_nothing() -> None:
    assert paid("purchase", [3, 2, 1], {3, 1}, PURCHASE) == {(3, 0, 10), (1, 2, 1000)}


def test_level_0_of_a_confirmed_referral_pays_the_referred_friend() -> None:
    assert paid("signup_confirmed", [2, 1], {2, 1}, SIGNUP) == {(2, 0, 50), (1, 1, 100)}


def test_level_0_of_a_confirmed_referral_pays_nobody_who_came_on_their_own() -> None:
    assert paid("signup_confirmed", [1], {1}, SIGNUP) == set()


def test_level_0_of_a_confirmed_referral_waits_for_the_referrer_to_confirm() -> None:
    assert paid("signup_confirmed", [2, 1], {2}, SIGNUP) == set()


def test_level_0_of_other_events_pays_the_actor_with_or_without_a_referrer() -> None:
    assert paid("purchase", [1], {1}, PURCHASE) == {(1, 0, 10)}


MILESTONE_0 = Rule(6, None, 3, 0, "points", 500)
MILESTONE_1 = Rule(7, None, 3, 1, "points", 200)


@pytest.mark.parametrize(
    ("rule", "opted_in", "expected"),
    [
        (MILESTONE_0, {2, 1}, [(2, 0)]),
        (MILESTONE_0, {1}, []),  # the advocate has not confirmed
        (MILESTONE_1, {2, 1}, [(1, 1)]),
        (MILESTONE_1, {2}, []),  # their referrer has not confirmed
        (MILESTONE_1, {1}, []),  # the advocate has not confirmed
    ],
)
def test_a_milestone_pays_only_confirmed_people(
    rule: Rule, opted_in: set[int], expected: list[tuple[int, int]]
) -> None:
    payouts = milestone_payouts(rule, [2, 1], reward_depth=1, ceiling=2, opted_in=opted_in)
    assert [(p.beneficiary_id, p.level) for p in payouts] == expected


def test_reporting_for_an_unconfirmed_participant_is_a_conflict_with_its_own_problem_type() -> None:
    check_opted_in(True)
    with pytest.raises(NotConfirmed) as refused:
        check_opted_in(False)
    assert isinstance(refused.value, Conflict) and refused.value.status == 409
    assert refused.value.message == NOT_CONFIRMED
    assert NotConfirmed.problem_type == "/problems/not-confirmed"
