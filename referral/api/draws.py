"""Draw endpoints: run a lottery's one draw, read its verifiable record, replace a winner."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Dict, Integer, List, String
from apiflask.validators import Length
from flask import current_app, g, url_for

from referral import emails
from referral.api import bp
from referral.api.auth import auth
from referral.api.bodies import json_object_required
from referral.api.guard import guarded
from referral.api.ids import parse_id
from referral.api.lookup import owned_campaign
from referral.api.openapi import problem_responses
from referral.api.schemas import Text, Whole, _Out
from referral.domain.errors import N_, NotFound
from referral.models import Draw
from referral.services import draws as service
from referral.services.scoping import get_owned


class DrawIn(Schema):
    winners = Whole(required=True, metadata={"minimum": 1, "description": "How many winners."})
    alternates = Whole(
        metadata={"minimum": 0, "description": "Alternates; the official rules' number if omitted."}
    )
    beacon = Text(
        validate=Length(max=200),
        metadata={"description": "The public randomness announced in the rules; empty if none."},
    )


class ReplacementIn(Schema):
    entry_id = Text(required=True, validate=Length(1, 32))
    reason = Text(required=True, validate=Length(1, 500))


class DrawOut(_Out):
    id = String(required=True)
    algorithm = String(required=True)
    campaign_id = String(required=True)
    commitment = String(required=True)
    seed = String(required=True)
    entries_digest = String(required=True)
    beacon = String(required=True)
    winners_count = Integer(required=True)
    alternates_count = Integer(required=True)
    draw_id = String(required=True)
    entries = List(Dict(), required=True)
    winners = List(String(), required=True)
    alternates = List(String(), required=True)
    current_winners = List(String(), required=True)
    replacements = List(Dict(), required=True)
    drawn_at = String(required=True, metadata={"format": "date-time"})
    verify_url = String(required=True, metadata={"format": "uri"})


def draw_json(draw: Draw) -> dict[str, Any]:
    """The published record (docs/DRAWS.md) with replacements and where to verify it."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return {
        **service.published_record(draw),
        "id": str(draw.id),
        "current_winners": service.current_winners(draw),
        "verify_url": f"{base}/draws/{draw.id}/verify",
    }


def _draw(draw_id: str) -> Draw:
    """:raise NotFound: malformed, unknown, or another workspace's draw alike."""
    ident = parse_id(draw_id)
    if ident is None:
        raise NotFound(N_("No such draw."))
    return get_owned(Draw, ident, g.workspace_id)


@bp.post("/campaigns/<campaign_id>/draws")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(DrawIn, arg_name="data")
@bp.output(DrawOut, status_code=201, description="The draw record, ready to verify.")
@bp.doc(
    summary="Draw a lottery's winners",
    description="Runs `referral-draw-v1` once on the frozen entries of a closed lottery and "
    "publishes its record. Before the close, or a second time: 409.",
    operation_id="createDraw",
    responses=problem_responses(400, 401, 404, 409, 422),
)
def create_draw(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id, lock=True)
    draw = service.run_draw(
        campaign,
        data["winners"],
        data.get("alternates"),
        data.get("beacon", ""),
        compose=emails.draw_winner,
    )
    location = url_for("api.get_draw", draw_id=str(draw.id))
    return draw_json(draw), 201, {"Location": location}


@bp.get("/draws/<draw_id>")
@bp.auth_required(auth)
@guarded
@bp.output(DrawOut, description="The draw, with everything needed to verify it.")
@bp.doc(summary="Get a draw", operation_id="getDraw", responses=problem_responses(401, 404))
def get_draw(draw_id: str) -> Any:
    return draw_json(_draw(draw_id))


@bp.post("/draws/<draw_id>/replacements")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(ReplacementIn, arg_name="data")
@bp.output(DrawOut, status_code=201, description="The draw, with the replacement recorded.")
@bp.doc(
    summary="Replace a disqualified winner",
    description="The next unused alternate in draw order takes the place; the reason is "
    "recorded and published. No new randomness is drawn.",
    operation_id="replaceWinner",
    responses=problem_responses(400, 401, 404, 409, 422),
)
def replace_winner(draw_id: str, data: dict[str, Any]) -> Any:
    draw = _draw(draw_id)
    service.replace_winner(draw, data["entry_id"], data["reason"], compose=emails.draw_winner)
    return draw_json(draw), 201
