"""What makes a campaign valid, and which state changes it allows (referral/domain/campaigns).

The web tests keep a case of each rule to prove that a refusal reaches the API's problem
answer or the admin form; the variations are checked here, without a request or a database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from referral.domain.campaigns import (
    check_closable,
    check_dates,
    check_publishable,
    clean_campaign,
)
from referral.domain.errors import Conflict, ValidationFailed

CEILING = 2  # the operator's default REFERRAL_MAX_REWARD_DEPTH
SLUG_RULE = "Use 1 to 64 lower-case letters, digits and dashes"


def refusal(data: dict[str, Any], *, partial: bool = False) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        clean_campaign(data, CEILING, partial=partial)
    return refused.value


CAMPAIGN_REFUSALS = [
    pytest.param({"name": "   "}, {"name"}, id="blank name"),
    pytest.param({"reward_depth": -1}, {"reward_depth"}, id="depth negative"),
    pytest.param({"attribution_days": 0}, {"attribution_days"}, id="attribution zero"),
    pytest.param({"hold_days": 366}, {"hold_days"}, id="hold too long"),
    pytest.param({"slug": "Not a slug!"}, {"slug"}, id="slug with spaces"),
    pytest.param({"slug": "-edge-"}, {"slug"}, id="slug dash at the ends"),
]


@pytest.mark.parametrize(("fields", "bad"), CAMPAIGN_REFUSALS)
def test_a_campaign_breaking_a_rule_names_each_bad_field(
    fields: dict[str, Any], bad: set[str]
) -> None:
    refused = refusal({"name": "Spring", "kind": "lottery", **fields})
    assert set(refused.errors) == bad
    assert all(refused.errors[name] for name in bad)


@pytest.mark.parametrize("slug", ["Not A Slug!", "-dash-first"])
def test_a_slug_that_is_not_an_address_is_refused_with_the_rule(slug: str) -> None:
    refused = refusal({"name": "Summer", "kind": "referral", "slug": slug})
    assert SLUG_RULE in refused.errors["slug"][0]


@pytest.mark.parametrize("depth", [3, 99, 10**30])
def test_a_reward_depth_above_the_ceiling_is_refused_with_the_ceiling(depth: int) -> None:
    refused = refusal({"name": "Deep", "kind": "referral", "reward_depth": depth})
    assert set(refused.errors) == {"reward_depth"}
    assert "above this server's ceiling of 2 levels" in refused.errors["reward_depth"][0]


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_dates(datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 5, 1, 9, tzinfo=UTC))
    assert refused.value.errors == {"ends_at": ["The end must come after the start."]}


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("draft", "close", "Only a live campaign can be closed; this campaign is draft."),
        ("closed", "close", "Only a live campaign can be closed; this campaign is closed."),
        ("live", "publish", "Only a draft can be published; this campaign is live."),
        ("closed", "publish", "Only a draft can be published; this campaign is closed."),
    ],
)
def test_a_transition_from_the_wrong_status_is_refused_with_a_reason(
    status: str, action: str, message: str
) -> None:
    with pytest.raises(Conflict) as refused:
        if action == "close":
            check_closable(status)
        else:
            check_publishable("referral", status, {})
    assert refused.value.message == message
