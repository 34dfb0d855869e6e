"""Campaign endpoints: create, list, read, change, publish, close."""

from __future__ import annotations

from typing import Any

from flask import g

from referral.api.auth import caller
from referral.api.lookup import owned_campaign
from referral.api.operations import created, operation
from referral.api.schemas import CampaignIn, CampaignOut, CampaignPage, CampaignPatch, ListQuery
from referral.services import campaigns as service


@operation(
    "POST /campaigns",
    operation_id="createCampaign",
    summary="Create a campaign",
    description="A new draft. `slug` is made from the name when not given; `reward_depth` "
    "defaults to 1 and may not exceed this server's ceiling.",
    body=CampaignIn,
    output=CampaignOut,
    status=201,
    output_description="The new campaign, a draft.",
    errors=(400, 401, 413, 422),
)
def create_campaign(data: dict[str, Any]) -> Any:
    campaign = service.create_in_workspace(g.workspace_id, data, **caller())
    return created(campaign, "api.get_campaign", campaign_id=str(campaign.id))


@operation(
    "GET /campaigns",
    operation_id="listCampaigns",
    summary="List campaigns",
    query=ListQuery,
    output=CampaignPage,
    output_description="A page of campaigns, oldest first.",
    errors=(401, 422),
)
def list_campaigns(query: dict[str, Any]) -> Any:
    return service.campaign_page(g.workspace_id, query.get("limit"), query.get("cursor"))


@operation(
    "GET /campaigns/<campaign_id>",
    operation_id="getCampaign",
    summary="Get a campaign",
    output=CampaignOut,
    output_description="The campaign.",
    errors=(401, 404),
)
def get_campaign(campaign_id: str) -> Any:
    return owned_campaign(campaign_id)


@operation(
    "PATCH /campaigns/<campaign_id>",
    operation_id="updateCampaign",
    summary="Change a campaign",
    description="Changes only the given fields. The kind never changes; official `rules` are "
    "frozen once published; a closed campaign cannot be changed (409).",
    body=CampaignPatch,
    output=CampaignOut,
    output_description="The changed campaign.",
    errors=(400, 401, 404, 409, 413, 422),
)
def patch_campaign(campaign_id: str, data: dict[str, Any]) -> Any:
    return service.update_campaign(owned_campaign(campaign_id), data, **caller())


@operation(
    "POST /campaigns/<campaign_id>/publish",
    operation_id="publishCampaign",
    summary="Publish a draft campaign",
    description="The campaign goes live. A prize draw needs complete official rules: each "
    "missing one is named in `errors` (`rules.sponsor`, ...). Only a draft can be published.",
    output=CampaignOut,
    output_description="The campaign, now live.",
    errors=(401, 404, 409, 422),
)
def publish_campaign(campaign_id: str) -> Any:
    return service.publish_campaign(owned_campaign(campaign_id))


@operation(
    "POST /campaigns/<campaign_id>/close",
    operation_id="closeCampaign",
    summary="Close a live campaign",
    description="No one joins a closed campaign. Only a live campaign can be closed. A prize "
    "draw whose active reward rule gives `entries` for `purchase` or `trial_converted` answers "
    "409 naming the rule (no purchase necessary): switch the rule off first.",
    output=CampaignOut,
    output_description="The campaign, now closed.",
    errors=(401, 404, 409),
)
def close_campaign(campaign_id: str) -> Any:
    return service.close_campaign(owned_campaign(campaign_id))
