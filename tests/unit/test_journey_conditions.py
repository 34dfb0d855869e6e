"""Branch conditions (``domain.journey_conditions``): how they are written and when they hold."""

from __future__ import annotations

from typing import Any

import pytest

from referral.domain.journey_conditions import Facts, case_holds, holds
from referral.domain.journey_parsing import definition_problems, parse_definition
from referral.domain.journeys import Branch, Condition

FACTS = Facts(
    attributes={"country": "NL", "plan": "pro", "age": 34, "vip": True, "nickname": None},
    tags=frozenset({"VIP", "newsletter"}),
    points=120,
    campaign_id=7,
    channel="whatsapp",
    generation=1,
    answers={"nps": 9, "colour": "Deep blue", "features": ("Sharing", "Badges")},
)


def condition(**raw: Any) -> Condition:
    """A condition read the way a saved journey reads it."""
    step = {"id": "b", "type": "branch", "cases": [{"when": [raw], "next": "end"}]}
    definition = parse_definition(
        {
            "trigger": {"type": "event", "event": "purchase"},
            "steps": [step, {"id": "end", "type": "exit"}],
        }
    )
    branch = definition.steps[0]
    assert isinstance(branch, Branch)
    return branch.cases[0].when[0]


def refusal(**raw: Any) -> list[str]:
    step = {"id": "b", "type": "branch", "cases": [{"when": [raw], "next": "end"}]}
    found = definition_problems(
        {
            "trigger": {"type": "event", "event": "purchase"},
            "steps": [step, {"id": "end", "type": "exit"}],
        }
    )
    assert {p.where for p in found} == {"steps.b"}
    return [p.message.text for p in found]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"on": "attribute", "name": "country", "op": "eq", "value": "nl"}, True),
        ({"on": "attribute", "name": "country", "op": "ne", "value": "NL"}, False),
        ({"on": "attribute", "name": "plan", "op": "in", "value": ["free", "pro"]}, True),
        ({"on": "attribute", "name": "plan", "op": "not_in", "value": ["free"]}, True),
        ({"on": "attribute", "name": "age", "op": "gte", "value": 18}, True),
        ({"on": "attribute", "name": "age", "op": "lt", "value": 30.5}, False),
        ({"on": "attribute", "name": "vip", "op": "eq", "value": True}, True),
        ({"on": "attribute", "name": "vip", "op": "eq", "value": 1}, False),
        ({"on": "attribute", "name": "country", "op": "exists"}, True),
        ({"on": "attribute", "name": "nickname", "op": "missing"}, True),
        ({"on": "attribute", "name": "shoe_size", "op": "missing"}, True),
        ({"on": "tag", "op": "has", "value": "vip"}, True),
        ({"on": "tag", "op": "lacks", "value": "churned"}, True),
        ({"on": "tag", "op": "has", "value": "churned"}, False),
        ({"on": "points", "op": "gte", "value": 100}, True),
        ({"on": "points", "op": "lt", "value": 100}, False),
        ({"on": "points", "op": "eq", "value": 120}, True),
        ({"on": "campaign", "op": "eq", "value": 7}, True),
        ({"on": "campaign", "op": "in", "value": [1, 2]}, False),
        ({"on": "channel", "op": "eq", "value": "WhatsApp"}, True),
        ({"on": "channel", "op": "not_in", "value": ["email", "link"]}, True),
        ({"on": "generation", "op": "gt", "value": 0}, True),
        ({"on": "survey", "question": "nps", "op": "gte", "value": 9}, True),
        ({"on": "survey", "question": "nps", "op": "lte", "value": 6}, False),
        ({"on": "survey", "question": "colour", "op": "contains", "value": "BLUE"}, True),
        ({"on": "survey", "question": "features", "op": "contains", "value": "badges"}, True),
        ({"on": "survey", "question": "features", "op": "contains", "value": "Badge"}, False),
        ({"on": "survey", "question": "colour", "op": "eq", "value": "deep blue"}, True),
        ({"on": "survey", "question": "colour", "op": "gt", "value": 3}, False),
        ({"on": "survey", "question": "city", "op": "missing"}, True),
        ({"on": "survey", "question": "nps", "op": "exists"}, True),
    ],
)
def test_a_condition_holds_or_not(raw: dict[str, Any], expected: bool) -> None:
    assert holds(condition(**raw), FACTS) is expected


@pytest.mark.parametrize(
    "raw",
    [
        {"on": "attribute", "name": "shoe_size", "op": "ne", "value": 42},
        {"on": "attribute", "name": "shoe_size", "op": "not_in", "value": [42]},
        {"on": "attribute", "name": "shoe_size", "op": "lt", "value": 42},
        {"on": "survey", "question": "city", "op": "ne", "value": "Paris"},
        {"on": "survey", "question": "city", "op": "contains", "value": "a"},
    ],
)
def test_an_unknown_value_satisfies_only_missing(raw: dict[str, Any]) -> None:
    assert holds(condition(**raw), FACTS) is False


def test_unknown_points_and_generation_never_compare() -> None:
    unknown = Facts(points=None, generation=None)
    assert not holds(condition(on="points", op="lt", value=10), unknown)
    assert not holds(condition(on="generation", op="eq", value=0), unknown)


def test_a_customer_without_a_channel_or_campaign_matches_neither() -> None:
    nobody = Facts()
    assert not holds(condition(on="channel", op="eq", value="email"), nobody)
    assert not holds(condition(on="campaign", op="ne", value=3), nobody)


def test_an_operator_must_suit_what_is_compared() -> None:
    assert refusal(on="tag", op="eq", value="vip") == ["Choose op from: has, lacks."]
    assert refusal(on="points", op="contains", value="1") == [
        "Choose op from: eq, ne, lt, lte, gt, gte."
    ]


def test_an_unknown_subject_is_refused() -> None:
    assert refusal(on="weather", op="eq", value="sunny") == [
        "Choose on from: attribute, survey, tag, points, generation, campaign, channel."
    ]


def test_an_attribute_needs_a_name_and_a_survey_condition_a_question() -> None:
    assert refusal(on="attribute", op="exists") == ["Give name."]
    assert refusal(on="survey", op="exists") == ["Give question."]
    assert refusal(on="survey", question="n p s", op="exists") == [
        "Give question as 1 to 64 letters, digits, '_' or '-'."
    ]


def test_a_name_on_something_that_has_none_is_an_unknown_field() -> None:
    assert refusal(on="points", name="x", op="gt", value=1) == ["Unknown field name."]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"on": "points", "op": "gt", "value": "10"}, "Compare points with a whole number."),
        ({"on": "points", "op": "gt", "value": 1.5}, "Compare points with a whole number."),
        ({"on": "campaign", "op": "eq", "value": True}, "Compare campaign with a whole number."),
        (
            {"on": "attribute", "name": "age", "op": "gt", "value": "30"},
            "Compare attribute with a number for gt.",
        ),
        (
            {"on": "attribute", "name": "x", "op": "eq", "value": {"a": 1}},
            "Compare attribute with text, a number or true/false.",
        ),
        (
            {"on": "attribute", "name": "x", "op": "eq"},
            "Compare attribute with text, a number or true/false.",
        ),
        (
            {"on": "channel", "op": "eq", "value": 3},
            "Keep value to 1 to 200 characters, without control characters.",
        ),
        (
            {"on": "tag", "op": "has", "value": ""},
            "Keep value to 1 to 200 characters, without control characters.",
        ),
        ({"on": "channel", "op": "in", "value": "email"}, "For in give a list of 1 to 50 values."),
        ({"on": "channel", "op": "in", "value": []}, "For in give a list of 1 to 50 values."),
        (
            {"on": "survey", "question": "q", "op": "exists", "value": 1},
            "exists takes no value: leave value out.",
        ),
    ],
)
def test_a_value_must_suit_the_comparison(raw: dict[str, Any], message: str) -> None:
    assert refusal(**raw) == [message]


def test_every_condition_of_a_case_must_hold() -> None:
    raw_case = [
        {"on": "tag", "op": "has", "value": "vip"},
        {"on": "points", "op": "gte", "value": 500},
    ]
    steps = [
        {"id": "b", "type": "branch", "cases": [{"when": raw_case, "next": "rich"}], "else": "end"},
        {"id": "rich", "type": "exit"},
        {"id": "end", "type": "exit"},
    ]
    branch = parse_definition(
        {"trigger": {"type": "event", "event": "purchase"}, "steps": steps}
    ).steps[0]
    assert isinstance(branch, Branch)
    assert not case_holds(branch.cases[0], FACTS)
    assert case_holds(branch.cases[0], Facts(tags=frozenset({"vip"}), points=500))
