"""Draw endpoints: run a lottery's one draw, read its verifiable record, replace a winner."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Dict, Integer, List, String
from apiflask.validators import Length
from marshmallow import pre_dump

from referral import emails
from referral.api.lookup import owned_campaign, owned_draw
from referral.api.operations import created, operation, reads
from referral.api.schemas import Alias, PublicUrl, Text, Whole, _Out
from referral.models import Draw
from referral.services import draws as service


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
    """Dumps a :class:`Draw` as its published record (docs/DRAWS.md), with the replacements,
    the winners after them, and where anyone can verify it."""

    id = Alias("draw_id", required=True)
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
    verify_url = PublicUrl("/draws/{}/verify", "draw_id", required=True)

    @pre_dump
    def _published(self, draw: Draw, **_kw: Any) -> dict[str, Any]:
        return {**service.published_record(draw), "current_winners": service.current_winners(draw)}


@operation(
    "POST /campaigns/<campaign_id>/draws",
    "createDraw",
    "Draw a lottery's winners",
    DrawOut,
    "The draw record, ready to verify.",
    body=DrawIn,
    status=201,
    description="Runs `referral-draw-v1` once on the frozen entries of a closed lottery and "
    "publishes its record. Before the close, or a second time: 409.",
    errors=(400, 401, 404, 409, 422),
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
    return created(draw, "api.get_draw", draw_id=str(draw.id))


@reads(
    "GET /draws/<draw_id>",
    "getDraw",
    "Get a draw",
    DrawOut,
    "The draw, with everything needed to verify it.",
)
def get_draw(draw_id: str) -> Any:
    return owned_draw(draw_id)


@operation(
    "POST /draws/<draw_id>/replacements",
    "replaceWinner",
    "Replace a disqualified winner",
    DrawOut,
    "The draw, with the replacement recorded.",
    body=ReplacementIn,
    status=201,
    description="The next unused alternate in draw order takes the place; the reason is "
    "recorded and published. No new randomness is drawn.",
    errors=(400, 401, 404, 409, 422),
)
def replace_winner(draw_id: str, data: dict[str, Any]) -> Any:
    draw = owned_draw(draw_id)
    service.replace_winner(draw, data["entry_id"], data["reason"], compose=emails.draw_winner)
    return draw, 201
