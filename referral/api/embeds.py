"""A campaign's widgets on other sites: the sites allowed to frame them, and the short-lived
tokens a site's server asks for to show a signed-in customer their own widget (docs/API.md,
Widgets on other sites)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import List, String
from apiflask.validators import Length
from flask import current_app

from referral import widget
from referral.api.auth import caller
from referral.api.lookup import owned_campaign
from referral.api.operations import changes, creates, reads
from referral.api.schemas import Text, _Out, _time_out
from referral.domain.embeds import MAX_ORIGINS, ORIGIN_MAX
from referral.models import Campaign
from referral.services import embeds as service

_ORIGINS = (
    "Origins (`https://shop.example.com`, `http://localhost:8000`: a scheme, a host and a port "
    f"when it is not the scheme's own; no path), at most {MAX_ORIGINS}."
)


class EmbedOriginsIn(Schema):
    origins = List(
        Text(validate=Length(1, ORIGIN_MAX)),
        required=True,
        validate=Length(0, MAX_ORIGINS),
        metadata={"description": _ORIGINS},
    )


class EmbedOut(_Out):
    origins = List(String(), required=True, attribute="embed_origins")
    script_url = String(required=True, metadata={"format": "uri"})
    integrity = String(
        required=True, metadata={"description": "The script's `integrity`, `sha384-...`."}
    )
    snippet = String(required=True, metadata={"description": "The HTML to paste (join)."})


class EmbedTokenIn(Schema):
    participant_id = Text(validate=Length(1, 20), metadata={"description": "Or `email`."})
    email = Text(validate=Length(1, 254), metadata={"description": "Or `participant_id`."})


class EmbedTokenOut(_Out):
    token = String(required=True)
    participant_id = String(required=True)
    expires_at = _time_out(required=True)


class _Embed:
    """A campaign as its embed settings answer it."""

    def __init__(self, campaign: Campaign) -> None:
        base = current_app.config["PUBLIC_BASE_URL"]
        self.embed_origins = list(campaign.embed_origins or [])
        self.script_url = f"{base}{widget.PATH}"
        self.integrity = widget.integrity()
        self.snippet = widget.snippet(base, campaign.slug)


@reads(
    "GET /campaigns/<campaign_id>/embed",
    "getCampaignEmbed",
    "Get a campaign's embed settings",
    EmbedOut,
    "The sites allowed to frame the campaign's widgets, and the snippet to paste.",
)
def get_embed(campaign_id: str) -> Any:
    return _Embed(owned_campaign(campaign_id))


@changes(
    "PUT /campaigns/<campaign_id>/embed",
    "setCampaignEmbedOrigins",
    "Set the sites that may embed a campaign's widgets",
    EmbedOut,
    "The campaign's embed settings as they are now.",
    body=EmbedOriginsIn,
    description="Replaces the list: only these origins (and this service) may frame "
    "`/embed/{slug}/{kind}`; an empty list allows none. A value that is not an origin answers "
    "422 naming `origins`; a closed campaign 409. Audited as "
    "`campaign.embed_origins_changed`.",
)
def put_embed(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = service.set_embed_origins(owned_campaign(campaign_id), data["origins"], **caller())
    return _Embed(campaign)


@creates(
    "POST /campaigns/<campaign_id>/embed-tokens",
    "createEmbedToken",
    "Issue a token for a participant's own widget",
    EmbedTokenOut,
    "The token, valid for a few minutes.",
    body=EmbedTokenIn,
    description="For the `me` and `share` widgets of a customer signed in on your site: name "
    "the participant by `participant_id` or by `email` (exactly one), and put `token` on the "
    "widget as `data-token`. The token names this campaign and that participant, is signed "
    "by this service and expires at `expires_at` (`EMBED_TOKEN_SECONDS`, ten minutes by "
    "default). Both or neither field, or nobody of the campaign, answers 422.",
)
def create_embed_token(campaign_id: str, data: dict[str, Any]) -> Any:
    issued = service.issue_token(owned_campaign(campaign_id), data)
    return {
        "token": issued.token,
        "participant_id": str(issued.participant_id),
        "expires_at": issued.expires_at,
    }, 201
