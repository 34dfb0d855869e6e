"""Events reported by integrators (purchases, conversions, …) and the rewards they pay."""

from __future__ import annotations

from typing import Any

from flask import g

from referral.api import bp
from referral.api.auth import auth
from referral.api.bodies import json_object_required
from referral.api.engine_schemas import EventIn, Reported
from referral.api.guard import guarded
from referral.api.ids import parse_id
from referral.api.lookup import event_json, ledger_json, owned_campaign, participant_in
from referral.api.openapi import problem_responses
from referral.domain.errors import N_, ValidationFailed
from referral.services.events import report_event

_REPEATED = {
    "description": "This `external_id` was reported before: the first event and the rewards "
    "it paid; nothing is recorded or paid again.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reported"}}},
}


@bp.post("/campaigns/<campaign_id>/events")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(EventIn, arg_name="data")
@bp.output(Reported, status_code=201, description="The event and the rewards it paid.")
@bp.doc(
    summary="Report an event",
    description="Something a participant did (`purchase`, `trial_converted`, …). The "
    "campaign's reward rules for it are paid up the referral chain, within the depth cap, "
    "each at most once; a referrer who has not confirmed their e-mail address receives "
    "nothing. The same `external_id` (per campaign and kind) is recorded and paid once, also "
    "when sent concurrently; a repeat answers 200 with the first event. Rewards flow only "
    "after double opt-in: for a participant who has not confirmed their address the answer "
    "is 409 with `type` ending in `/problems/not-confirmed` and nothing is recorded; report "
    "the event again once they have confirmed. A rejected participant answers 409 too.",
    operation_id="reportEvent",
    responses={200: _REPEATED, **problem_responses(400, 401, 404, 409, 413, 422)},
)
def create_event(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    participation = participant_in(parse_id(data["participant_id"]), g.workspace_id)
    if participation is None or participation.campaign_id != campaign.id:
        raise ValidationFailed.on("participant_id", N_("No such participant in this campaign."))
    reported = report_event(
        campaign,
        participation,
        data["kind"],
        amount=data.get("amount"),
        currency=data.get("currency"),
        external_id=data.get("external_id"),
        occurred_at=data.get("occurred_at"),
    )
    body = {
        "event": event_json(reported.event),
        "rewards": [ledger_json(entry) for entry in reported.rewards],
    }
    return body, 201 if reported.created else 200
