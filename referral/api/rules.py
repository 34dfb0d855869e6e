"""Reward rules of a campaign: saved only within the depth cap (DESIGN invariant 2)."""

from __future__ import annotations

from typing import Any

from referral.api.auth import caller
from referral.api.engine_schemas import RuleIn, RuleOut, RulePage
from referral.api.lookup import owned_campaign
from referral.api.operations import creates, lists
from referral.services.rules import add_rule, rule_page


@creates(
    "POST /campaigns/<campaign_id>/reward-rules",
    "createRewardRule",
    "Add a reward rule",
    RuleOut,
    "The new rule.",
    body=RuleIn,
    description="On `event` (or at a `milestone` of confirmed referrals) pay `level` an "
    "`amount` of `reward`. Level 0 is the participant who acts; on `signup_confirmed` (a "
    "referred friend confirms) that is the friend, and only a friend whom a confirmed "
    "participant referred: someone who came on their own earns nothing from it. Rewards flow "
    "only between participants who have confirmed their e-mail address. A level deeper than "
    "the campaign's `reward_depth` or this server's ceiling, a level of 2 or more for "
    "anything but `purchase` and `trial_converted`, and a milestone above level 1 answer 422 "
    "naming `level` with the reason (and are audited as `reward_depth.refused`). In a prize "
    "draw (`lottery`), `entries` for `purchase` or `trial_converted` answer 422 naming "
    "`reward`: no purchase necessary, the free way in must weigh the same.",
)
def create_rule(campaign_id: str, data: dict[str, Any]) -> Any:
    return add_rule(owned_campaign(campaign_id), data, **caller()), 201


@lists(
    "GET /campaigns/<campaign_id>/reward-rules",
    "listRewardRules",
    "List reward rules",
    RulePage,
    "A page of the campaign's rules, oldest first.",
)
def list_rules(campaign_id: str, query: dict[str, Any]) -> Any:
    return rule_page(owned_campaign(campaign_id), query.get("limit"), query.get("cursor"))
