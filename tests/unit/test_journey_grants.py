"""A journey's grant step as the domain reads it: the reward it names and how much of it."""

from __future__ import annotations

from typing import Any

from referral.domain.journey_parsing import (
    GRANT_AMOUNT_MAX,
    GRANT_REWARDS,
    Known,
    definition_problems,
    parse_definition,
)
from referral.domain.journeys import Grant

EXIT = {"id": "end", "type": "exit"}


def journey(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": {"type": "event", "event": "signup_confirmed"}, "steps": [*steps, EXIT]}


def problems(raw: object, known: Known | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in definition_problems(raw, known):
        found.setdefault(problem.where, []).append(problem.message.text)
    return found


def test_a_grant_pays_the_amount_it_names_and_one_without_an_amount() -> None:
    definition = parse_definition(
        journey(
            {"id": "gift", "type": "grant", "reward": "points", "amount": 250},
            {"id": "coupon", "type": "grant", "reward": "coupon"},
        ),
        rewards=GRANT_REWARDS,
    )
    assert definition.steps[:2] == (
        Grant("gift", "coupon", "points", 250),
        Grant("coupon", "end", "coupon", 1),
    )


def test_an_amount_out_of_range_or_not_a_whole_number_is_refused_at_the_step() -> None:
    for amount in (0, -5, GRANT_AMOUNT_MAX + 1, 2.5, "100", True):
        raw = journey({"id": "gift", "type": "grant", "reward": "points", "amount": amount})
        assert problems(raw) == {
            "steps.gift": [f"Use a whole number from 1 to {GRANT_AMOUNT_MAX} for amount."]
        }, amount


def test_a_journey_grants_points_or_a_coupon_never_draw_entries_nor_cash() -> None:
    assert GRANT_REWARDS == ("points", "coupon")
    for reward in ("entries", "cash"):
        raw = journey({"id": "gift", "type": "grant", "reward": reward, "amount": 5})
        assert problems(raw, Known(rewards=GRANT_REWARDS)) == {
            "steps.gift": [f"There is no reward {reward}."]
        }
