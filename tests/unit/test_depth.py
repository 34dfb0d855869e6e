"""The reward depth cap (DESIGN invariant 2): the ceiling, a campaign's depth, a rule's level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.domain.depth import (
    DEFAULT_CEILING,
    DEFAULT_REWARD_DEPTH,
    HARD_CEILING,
    VALUE_EVENTS,
    above_ceiling,
    check_reward_depth,
    check_rule_level,
    deepest_level,
    may_pay,
    operator_ceiling,
)
from referral.domain.errors import ValidationFailed

SIGNUP_EVENTS = [
    "entered",
    "signup_confirmed",
    "survey_completed",
    "lottery_entered",
    "trial_started",
]


def test_the_defaults_pay_the_direct_referrer_under_a_ceiling_of_two() -> None:
    assert (DEFAULT_REWARD_DEPTH, DEFAULT_CEILING, HARD_CEILING) == (1, 2, 3)
    assert {"purchase", "trial_converted"} == VALUE_EVENTS


# The operator's ceiling


@pytest.mark.parametrize(
    ("configured", "ceiling"),
    [(0, 0), (1, 1), ("2", 2), (" 3 ", 3), (4, 3), ("10", 3), (10**6, 3)],
)
def test_the_operator_ceiling_is_clamped_to_three(configured: object, ceiling: int) -> None:
    assert operator_ceiling(configured) == ceiling


@pytest.mark.parametrize("configured", ["-1", -5, "two", "", "2.5", None])
def test_a_ceiling_that_is_not_a_whole_number_of_zero_or_more_stops_the_start(
    configured: object,
) -> None:
    with pytest.raises(ValueError):
        operator_ceiling(configured)


@given(st.integers(min_value=0, max_value=10**9))
def test_invariant_2_depth_cap_no_configuration_lifts_the_ceiling_above_three(
    configured: int,
) -> None:
    assert 0 <= operator_ceiling(configured) <= HARD_CEILING
    assert operator_ceiling(configured) == min(configured, HARD_CEILING)


# A campaign's reward depth


@pytest.mark.parametrize(("given_depth", "depth"), [(0, 0), (1, 1), (2, 2), ("2", 2), ("0", 0)])
def test_a_reward_depth_within_the_ceiling_is_accepted(given_depth: object, depth: int) -> None:
    assert check_reward_depth(given_depth, 2) == depth


def test_a_reward_depth_above_the_ceiling_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_reward_depth(3, 2)
    assert list(raised.value.errors) == ["reward_depth"]
    assert "ceiling of 2" in raised.value.message
    assert "REFERRAL_MAX_REWARD_DEPTH" in raised.value.message


@pytest.mark.parametrize("bad", [-1, True, False, None, "one", "1.5", [], 1.5j])
def test_a_reward_depth_that_is_not_a_whole_number_of_zero_or_more_is_refused(
    bad: object,
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_reward_depth(bad, 3)
    assert list(raised.value.errors) == ["reward_depth"]


@given(st.integers(min_value=-5, max_value=10), st.integers(min_value=0, max_value=3))
def test_a_reward_depth_is_accepted_exactly_when_within_zero_and_the_ceiling(
    depth: int, ceiling: int
) -> None:
    if 0 <= depth <= ceiling:
        assert check_reward_depth(depth, ceiling) == depth
    else:
        with pytest.raises(ValidationFailed):
            check_reward_depth(depth, ceiling)


# A rule's level


@pytest.mark.parametrize("event", [*SIGNUP_EVENTS, *sorted(VALUE_EVENTS)])
def test_levels_zero_and_one_may_pay_for_any_event(event: str) -> None:
    for level in (0, 1):
        check_rule_level(level, event, reward_depth=1, ceiling=2)
        assert may_pay(level, event, 1, 2)


def test_a_level_deeper_than_the_campaign_pays_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_rule_level(2, "purchase", reward_depth=1, ceiling=3)
    assert list(raised.value.errors) == ["level"]
    assert "reward depth 1" in raised.value.message
    assert not may_pay(2, "purchase", 1, 3)


def test_a_level_deeper_than_the_server_ceiling_is_refused_whatever_the_campaign_says() -> None:
    """A campaign saved with depth 3 before the operator lowered the ceiling pays no deeper."""
    with pytest.raises(ValidationFailed) as raised:
        check_rule_level(3, "purchase", reward_depth=3, ceiling=2)
    assert "server ceiling 2" in raised.value.message
    assert not may_pay(3, "purchase", 3, 2)
    assert may_pay(2, "purchase", 3, 2)


def test_a_reward_depth_of_zero_pays_only_the_actor() -> None:
    assert may_pay(0, "signup_confirmed", 0, 2)
    assert not may_pay(1, "signup_confirmed", 0, 2)


@pytest.mark.parametrize("event", SIGNUP_EVENTS)
def test_level_two_and_deeper_never_pay_for_a_sign_up(event: str) -> None:
    """Paying the referrer's referrer for a sign-up is paying for recruiting: a pyramid."""
    for level in (2, 3):
        with pytest.raises(ValidationFailed) as raised:
            check_rule_level(level, event, reward_depth=3, ceiling=3)
        assert "pyramid" in raised.value.message
        assert not may_pay(level, event, 3, 3)


@pytest.mark.parametrize("event", sorted(VALUE_EVENTS))
def test_level_two_and_three_may_pay_for_purchases_and_converted_trials(event: str) -> None:
    check_rule_level(2, event, reward_depth=2, ceiling=2)
    check_rule_level(3, event, reward_depth=3, ceiling=3)
    assert may_pay(3, event, 3, 3)


def test_milestones_pay_only_level_zero_or_one() -> None:
    """A milestone counts sign-ups, so it is a recruiting reward (``event`` is None)."""
    check_rule_level(0, None, reward_depth=3, ceiling=3)
    check_rule_level(1, None, reward_depth=3, ceiling=3)
    for level in (2, 3):
        with pytest.raises(ValidationFailed):
            check_rule_level(level, None, reward_depth=3, ceiling=3)


def test_a_negative_level_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_rule_level(-1, "purchase", reward_depth=1, ceiling=2)
    assert list(raised.value.errors) == ["level"]


@given(
    st.integers(min_value=-2, max_value=5),
    st.sampled_from([None, *SIGNUP_EVENTS, *sorted(VALUE_EVENTS)]),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=3),
)
def test_a_payable_level_is_within_both_caps_and_deep_ones_are_for_value_only(
    level: int, event: str | None, reward_depth: int, ceiling: int
) -> None:
    """The whole rule in one line, checked against the function for every combination."""
    expected = 0 <= level <= min(reward_depth, ceiling) and (level < 2 or event in VALUE_EVENTS)
    assert may_pay(level, event, reward_depth, ceiling) is expected


# What a refusal of depth is audited with


@pytest.mark.parametrize(
    ("requested", "ceiling", "above"),
    [(3, 2, 3), ("3", 2, 3), (2, 2, None), (0, 0, None), (1, 0, 1), (True, 0, None)],
)
def test_above_ceiling_names_a_whole_depth_over_the_ceiling(
    requested: object, ceiling: int, above: int | None
) -> None:
    assert above_ceiling(requested, ceiling) == above


@pytest.mark.parametrize("requested", ["two", None, 2.5j, [], ""])
def test_above_ceiling_leaves_what_is_not_a_number_to_the_validation(requested: object) -> None:
    assert above_ceiling(requested, 2) is None


@pytest.mark.parametrize(
    ("event", "depth", "ceiling", "deepest"),
    [
        ("purchase", 2, 2, 2),
        ("purchase", 3, 2, 2),
        ("trial_converted", 1, 3, 1),
        ("signup_confirmed", 2, 2, 1),
        (None, 2, 3, 1),
        ("survey_completed", 0, 2, 0),
    ],
)
def test_deepest_level_agrees_with_check_rule_level(
    event: str | None, depth: int, ceiling: int, deepest: int
) -> None:
    assert deepest_level(event, depth, ceiling) == deepest
    check_rule_level(deepest, event, depth, ceiling)
    with pytest.raises(ValidationFailed):
        check_rule_level(deepest + 1, event, depth, ceiling)


RECRUITING = "Levels 2 and deeper may only pay for purchases or converted trials"
# Every way a rule's level can break the cap, under this server's default ceiling of 2: the
# rule the admin form and the API answer with 422 on ``level``.
REFUSED_LEVELS = [
    pytest.param(1, "purchase", 2, "Level 2 is deeper than this campaign pays (reward depth 1,"),
    pytest.param(2, "purchase", 3, "Level 3 is deeper than this campaign pays (reward depth 2,"),
    pytest.param(3, "purchase", 3, "(reward depth 3, server ceiling 2)", id="old-deep-campaign"),
    pytest.param(2, "signup_confirmed", 2, RECRUITING, id="recruiting"),
    pytest.param(2, None, 2, RECRUITING, id="milestone-level-2"),
    pytest.param(0, "purchase", 1, "Level 1 is deeper than this campaign pays (reward depth 0,"),
    pytest.param(1, "purchase", -1, "Level must be 0 (the actor) or more.", id="negative"),
]


@pytest.mark.parametrize(("reward_depth", "event", "level", "reason"), REFUSED_LEVELS)
def test_invariant_2_depth_cap_a_level_past_the_cap_is_refused_on_level_with_the_reason(
    reward_depth: int, event: str | None, level: int, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_rule_level(level, event, reward_depth=reward_depth, ceiling=DEFAULT_CEILING)
    assert list(raised.value.errors) == ["level"]
    assert reason in raised.value.errors["level"][0]
    assert not may_pay(level, event, reward_depth, DEFAULT_CEILING)
