"""Survey rules as plain values: the builder's questions, the answers a participant may
give, and what answers add up to."""

from __future__ import annotations

from collections import Counter

import pytest

from referral.domain.errors import ValidationFailed
from referral.domain.surveys import (
    Answer,
    QuestionSpec,
    clean_question,
    clean_settings,
    nps,
    parse_answers,
    question_result,
)


def test_a_choice_question_keeps_its_options_without_blank_lines() -> None:
    draft = clean_question("single", "  Which roast? ", True, ["Light", "", " Dark "])
    assert draft.prompt == "Which roast?"
    assert draft.options == ("Light", "Dark")
    assert draft.required is True


@pytest.mark.parametrize(
    ("kind", "prompt", "options", "field"),
    [
        ("essay", "Why?", [], "kind"),
        ("single", "   ", ["a", "b"], "prompt"),
        ("single", "x" * 301, ["a", "b"], "prompt"),
        ("single", "Pick one", ["only"], "options"),
        ("multiple", "Pick", [f"o{i}" for i in range(21)], "options"),
        ("multiple", "Pick", ["Same", "same"], "options"),
        ("single", "Pick", ["a", "b" * 201], "options"),
        ("rating", "How good?", ["a", "b"], "options"),
        ("nps", "Recommend?", ["x"], "options"),
    ],
)
def test_the_builder_refuses_an_invalid_question_and_names_the_field(
    kind: str, prompt: str, options: list[str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_question(kind, prompt, True, options)
    assert field in caught.value.errors


@pytest.mark.parametrize("kind", ["rating", "nps", "short_text", "long_text"])
def test_questions_other_than_choices_have_no_options(kind: str) -> None:
    assert clean_question(kind, "Tell us", False, ["", " "]).options == ()


def test_settings_refuse_a_quota_below_one_and_a_long_introduction() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_settings(False, 0, "x" * 2001)
    assert set(caught.value.errors) == {"quota", "intro"}
    assert clean_settings(True, None, "  Hi ") == (True, None, "Hi")


SINGLE = QuestionSpec(1, "single", True, (11, 12))
MULTI = QuestionSpec(2, "multiple", False, (21, 22, 23))
RATING = QuestionSpec(3, "rating", True)
NPS_Q = QuestionSpec(4, "nps", False)
TEXT = QuestionSpec(5, "short_text", False)
ALL = [SINGLE, MULTI, RATING, NPS_Q, TEXT]


def test_valid_answers_come_back_in_question_order() -> None:
    form = {"q1": ["12"], "q2": ["21", "23", "21"], "q3": ["4"], "q4": ["10"], "q5": [" ok "]}
    assert parse_answers(ALL, form) == [
        Answer(1, option_ids=(12,)),
        Answer(2, option_ids=(21, 23)),
        Answer(3, number=4),
        Answer(4, number=10),
        Answer(5, text="ok"),
    ]


def test_optional_questions_may_be_left_out_but_required_ones_not() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_answers(ALL, {"q5": ["hello"]})
    assert set(caught.value.errors) == {"q1", "q3"}
    assert parse_answers(ALL, {"q1": ["11"], "q3": ["1"]}) == [
        Answer(1, option_ids=(11,)),
        Answer(3, number=1),
    ]


def test_an_option_of_another_question_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_answers(ALL, {"q1": ["21"], "q3": ["3"]})
    assert list(caught.value.errors) == ["q1"]
    assert "options of this question" in caught.value.errors["q1"][0]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"q1": ["11", "12"], "q3": ["3"]}, "q1"),  # two options on a single choice
        ({"q1": ["abc"], "q3": ["3"]}, "q1"),
        ({"q1": ["11"], "q3": ["6"]}, "q3"),
        ({"q1": ["11"], "q3": ["0"]}, "q3"),
        ({"q1": ["11"], "q3": ["3"], "q4": ["11"]}, "q4"),
        ({"q1": ["11"], "q3": ["3"], "q4": ["-1"]}, "q4"),
        ({"q1": ["11"], "q3": ["3", "4"]}, "q3"),
        ({"q1": ["11"], "q3": ["3"], "q5": ["x" * 201]}, "q5"),
        ({"q1": ["11"], "q3": ["3"], "q5": ["a\x00b"]}, "q5"),
        ({"q1": ["1" * 40], "q3": ["3"]}, "q1"),
    ],
)
def test_answers_that_do_not_fit_their_question_are_refused(
    form: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_answers(ALL, form)
    assert list(caught.value.errors) == [field]


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    result = nps(Counter([10, 9, 9, 7, 6, 0]))
    assert (result.promoters, result.passives, result.detractors, result.total) == (3, 1, 2, 6)
    assert result.score == 16.7


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([10, 10], 100.0), ([0, 6, 3], -100.0), ([7, 8], 0.0), ([9, 5], 0.0), ([], None)],
)
def test_nps_edges(scores: list[int], expected: float | None) -> None:
    assert nps(Counter(scores)).score == expected


def test_a_scale_result_lists_every_point_with_its_mean() -> None:
    result = question_result(RATING, 4, {5: 2, 3: 1, 1: 1})
    assert result.counts == {1: 1, 2: 0, 3: 1, 4: 0, 5: 2}
    assert result.mean == 3.5
    assert result.nps is None


def test_an_nps_result_has_its_score_and_a_choice_result_every_option() -> None:
    assert question_result(NPS_Q, 2, {10: 1, 0: 1}).nps.score == 0.0  # type: ignore[union-attr]
    assert question_result(MULTI, 3, {22: 3}).counts == {21: 0, 22: 3, 23: 0}
