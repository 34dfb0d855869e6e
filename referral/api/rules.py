"""Reward rules of a campaign: saved only within the depth cap (DESIGN invariant 2)."""

from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy import select

from referral.api import bp
from referral.api.auth import auth
from referral.api.bodies import json_object_required
from referral.api.engine_schemas import RuleIn, RuleOut, RulePage
from referral.api.guard import guarded
from referral.api.lookup import owned_campaign, rule_json
from referral.api.openapi import problem_responses
from referral.api.pagination import page
from referral.api.schemas import ListQuery
from referral.models import RewardRule
from referral.security import hash_ip
from referral.services.rules import add_rule


@bp.post("/campaigns/<campaign_id>/reward-rules")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(RuleIn, arg_name="data")
@bp.output(RuleOut, status_code=201, description="The new rule.")
@bp.doc(
    summary="Add a reward rule",
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
    operation_id="createRewardRule",
    responses=problem_responses(400, 401, 404, 413, 422),
)
def create_rule(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    rule = add_rule(
        campaign, data, actor=f"api-key:{g.api_key.id}", ip_hash=hash_ip(request.remote_addr)
    )
    return rule_json(rule), 201


@bp.get("/campaigns/<campaign_id>/reward-rules")
@bp.auth_required(auth)
@guarded
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(RulePage, description="A page of the campaign's rules, oldest first.")
@bp.doc(
    summary="List reward rules",
    operation_id="listRewardRules",
    responses=problem_responses(401, 404, 422),
)
def list_rules(campaign_id: str, query: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    stmt = select(RewardRule).where(RewardRule.campaign_id == campaign.id)
    rows, cursor = page(stmt, RewardRule.id, query.get("limit"), query.get("cursor"))
    return {"items": [rule_json(r) for r in rows], "next_cursor": cursor}
