"""Campaign endpoints: create, list, read, change, publish, close, duplicate."""

from __future__ import annotations

from typing import Any

from flask import g

from referral.api.auth import caller
from referral.api.lookup import owned_campaign
from referral.api.operations import acts, changes, created, creates, lists, reads
from referral.api.schemas import CampaignIn, CampaignOut, CampaignPage, CampaignPatch
from referral.services import campaign_copies
from referral.services import campaigns as service


@creates(
    "POST /campaigns",
    "createCampaign",
    "Create a campaign",
    CampaignOut,
    "The new campaign, a draft.",
    body=CampaignIn,
    description="A new draft. `slug` is made from the name when not given; `reward_depth` "
    "defaults to 1 and may not exceed this server's ceiling.",
)
def create_campaign(data: dict[str, Any]) -> Any:
    campaign = service.create_in_workspace(g.workspace_id, data, **caller())
    return created(campaign, "api.get_campaign", campaign_id=str(campaign.id))


@lists(
    "GET /campaigns",
    "listCampaigns",
    "List campaigns",
    CampaignPage,
    "A page of campaigns, oldest first.",
)
def list_campaigns(query: dict[str, Any]) -> Any:
    return service.campaign_page(g.workspace_id, query.get("limit"), query.get("cursor"))


@reads(
    "GET /campaigns/<campaign_id>", "getCampaign", "Get a campaign", CampaignOut, "The campaign."
)
def get_campaign(campaign_id: str) -> Any:
    return owned_campaign(campaign_id)


@changes(
    "PATCH /campaigns/<campaign_id>",
    "updateCampaign",
    "Change a campaign",
    CampaignOut,
    "The changed campaign.",
    body=CampaignPatch,
    description="Changes only the given fields. The kind never changes; official `rules` are "
    "frozen once published; a closed campaign cannot be changed (409).",
)
def patch_campaign(campaign_id: str, data: dict[str, Any]) -> Any:
    return service.update_campaign(owned_campaign(campaign_id), data, **caller())


@acts(
    "POST /campaigns/<campaign_id>/publish",
    "publishCampaign",
    "Publish a draft campaign",
    CampaignOut,
    "The campaign, now live.",
    description="The campaign goes live. A prize draw needs complete official rules: each "
    "missing one is named in `errors` (`rules.sponsor`, ...); a survey needs a question "
    "(`questions`) and an instant-win game a prize that is switched on and in stock "
    "(`prizes`). Only a draft can be published.",
    errors=(401, 404, 409, 422),
)
def publish_campaign(campaign_id: str) -> Any:
    return service.publish_campaign(owned_campaign(campaign_id))


@acts(
    "POST /campaigns/<campaign_id>/close",
    "closeCampaign",
    "Close a live campaign",
    CampaignOut,
    "The campaign, now closed.",
    description="No one joins a closed campaign. Only a live campaign can be closed. A prize "
    "draw whose active reward rule gives `entries` for `purchase` or `trial_converted` answers "
    "409 naming the rule (no purchase necessary): switch the rule off first.",
)
def close_campaign(campaign_id: str) -> Any:
    return service.close_campaign(owned_campaign(campaign_id))


@acts(
    "POST /campaigns/<campaign_id>/duplicate",
    "duplicateCampaign",
    "Duplicate a campaign",
    CampaignOut,
    "The copy, a new draft.",
    status=201,
    description='A new draft set up like the campaign (of any status): named "... (copy)" '
    "at the first free slug of `<slug>-copy`, `<slug>-copy-2`, ...; with its settings, "
    "official rules, reward rules, survey questions and instant-win prizes (in full stock). "
    "Never its participants, clicks, events, rewards, entries, draw or coupon codes. The new "
    "campaign's address is in `Location`.",
)
def duplicate_campaign(campaign_id: str) -> Any:
    copy = campaign_copies.duplicate_campaign(owned_campaign(campaign_id), **caller())
    return created(copy, "api.get_campaign", campaign_id=str(copy.id))
