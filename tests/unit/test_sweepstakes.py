"""No purchase necessary (``domain.sweepstakes``): paid events never give draw entries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from referral.domain.errors import Conflict, ValidationFailed
from referral.domain.rewards import REWARD_EVENTS
from referral.domain.sweepstakes import PAID_EVENTS, buys_entries, check_closable, check_rule


@dataclass(frozen=True)
class FakeRule:
    id: int
    event: str | None
    reward: str


@pytest.mark.parametrize("event", sorted(PAID_EVENTS))
def test_invariant_5_no_purchase_necessary_a_lottery_refuses_entries_for_a_paid_event(
    event: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_rule("lottery", event, "entries")
    assert set(refused.value.errors) == {"reward"}
    assert "no purchase necessary" in refused.value.errors["reward"][0]


@pytest.mark.parametrize("event", [e for e in REWARD_EVENTS if e not in PAID_EVENTS] + [None])
def test_entries_for_free_actions_and_milestones_are_allowed(event: str | None) -> None:
    check_rule("lottery", event, "entries")
    assert not buys_entries("lottery", event, "entries")


@pytest.mark.parametrize("reward", ["points", "coupon", "cash"])
def test_other_rewards_for_a_purchase_are_allowed_in_a_lottery(reward: str) -> None:
    check_rule("lottery", "purchase", reward)


@pytest.mark.parametrize("kind", ["referral", "survey", "trial", "instant_win"])
def test_other_kinds_of_campaign_hold_no_draw(kind: str) -> None:
    check_rule(kind, "purchase", "entries")


def test_closing_is_refused_naming_the_first_rule_that_sells_entries() -> None:
    rules = [
        FakeRule(9, "trial_converted", "entries"),
        FakeRule(4, "signup_confirmed", "entries"),
        FakeRule(7, "purchase", "entries"),
    ]
    with pytest.raises(Conflict) as refused:
        check_closable("lottery", rules)
    assert refused.value.params == {"rule": 7, "event": "purchase"}
    assert "Reward rule 7 gives draw entries for purchase" in refused.value.message


def test_closing_with_only_fair_rules_is_allowed() -> None:
    check_closable("lottery", [FakeRule(1, "signup_confirmed", "entries")])
    check_closable("lottery", [FakeRule(2, "purchase", "points")])
    check_closable("lottery", [])
