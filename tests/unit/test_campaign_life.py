"""What a campaign needs before it goes live, and what closing it says it does."""

from __future__ import annotations

import pytest

from referral.domain.campaigns import KINDS, check_publishable, closing_effects
from referral.domain.errors import Conflict, ValidationFailed


@pytest.mark.parametrize(
    ("kind", "counts", "field"),
    [
        ("survey", {"questions": 0}, "questions"),
        ("instant_win", {"prizes": 0}, "prizes"),
    ],
)
def test_an_engagement_without_its_content_cannot_go_live(
    kind: str, counts: dict[str, int], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_publishable(kind, "draft", {}, **counts)
    assert set(refused.value.errors) == {field}


def test_one_question_or_one_prize_is_enough() -> None:
    check_publishable("survey", "draft", {}, questions=1)
    check_publishable("instant_win", "draft", {}, prizes=1)


def test_a_wrong_status_is_refused_before_the_content_is_looked_at() -> None:
    with pytest.raises(Conflict):
        check_publishable("survey", "live", {}, questions=0)


def test_the_counts_only_matter_to_their_own_kind() -> None:
    check_publishable("referral", "draft", {}, questions=0, prizes=0)
    check_publishable("trial", "draft", {}, questions=0, prizes=0)


@pytest.mark.parametrize("kind", KINDS)
def test_closing_always_says_nobody_joins_nothing_changes_and_rewards_stay(kind: str) -> None:
    effects = closing_effects(kind)
    assert effects[0].startswith("No one can join any more")
    assert "A closed campaign can no longer be changed." in effects
    assert effects[-1].startswith("Rewards already earned stay as they are")
    assert len(set(effects)) == len(effects)


def test_only_a_draw_says_its_entries_freeze() -> None:
    frozen = [kind for kind in KINDS if any("entries freeze" in e for e in closing_effects(kind))]
    assert frozen == ["lottery"]
