"""Campaign endpoints: create, list, read, change, publish, close."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import current_app, g, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.api import bp
from referral.api.auth import auth
from referral.api.bodies import json_object_required
from referral.api.guard import guarded
from referral.api.lookup import iso, owned_campaign
from referral.api.openapi import problem_responses
from referral.api.pagination import page
from referral.api.schemas import CampaignIn, CampaignOut, CampaignPage, CampaignPatch, ListQuery
from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.security import hash_ip
from referral.services import campaigns as service
from referral.services import lottery

T = TypeVar("T")


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    """The public shape of a campaign (ids are strings, times ISO 8601 with offset)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "slug": campaign.slug,
        "kind": campaign.kind,
        "status": campaign.status,
        "description": campaign.description,
        "reward_depth": campaign.reward_depth,
        "attribution_days": campaign.attribution_days,
        "hold_days": campaign.hold_days,
        "starts_at": iso(campaign.starts_at),
        "ends_at": iso(campaign.ends_at),
        "locales": campaign.locales,
        "rules": (campaign.settings or {}).get("rules"),
        "landing_url": f"{base}/c/{campaign.slug}",
        "published_at": iso(campaign.published_at),
        "closed_at": iso(campaign.closed_at),
        "created_at": iso(campaign.created_at),
        **lottery.public_fields(campaign),
    }


def _who() -> dict[str, Any]:
    """Who asks, for the audit log: the API key and the hashed client address."""
    return {"actor": f"api-key:{g.api_key.id}", "ip_hash": hash_ip(request.remote_addr)}


def _saving(change: Callable[..., T], *args: Any, slug_given: bool = False) -> T:
    """Run a service call that commits; a unique-constraint race becomes a 4xx, not a 500."""
    try:
        return change(*args)
    except IntegrityError:
        db.session.rollback()
        if slug_given:
            raise ValidationFailed.on(
                "slug", N_("This address is already taken; choose another.")
            ) from None
        raise Conflict(N_("Another request changed this at the same time; try again.")) from None


@bp.post("/campaigns")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(CampaignIn, arg_name="data")
@bp.output(CampaignOut, status_code=201, description="The new campaign, a draft.")
@bp.doc(
    summary="Create a campaign",
    description="A new draft. `slug` is made from the name when not given; `reward_depth` "
    "defaults to 1 and may not exceed this server's ceiling.",
    operation_id="createCampaign",
    responses=problem_responses(400, 401, 413, 422),
)
def create_campaign(data: dict[str, Any]) -> Any:
    workspace = db.session.get(Workspace, g.workspace_id)
    if workspace is None:  # deleted while its key was in use
        raise NotFound(N_("No such workspace."))
    create = partial(service.create_campaign, **_who())
    campaign = _saving(create, workspace, data, slug_given="slug" in data)
    location = url_for("api.get_campaign", campaign_id=str(campaign.id))
    return campaign_json(campaign), 201, {"Location": location}


@bp.get("/campaigns")
@bp.auth_required(auth)
@guarded
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(CampaignPage, description="A page of campaigns, oldest first.")
@bp.doc(
    summary="List campaigns",
    operation_id="listCampaigns",
    responses=problem_responses(401, 422),
)
def list_campaigns(query: dict[str, Any]) -> Any:
    stmt = select(Campaign).where(Campaign.workspace_id == g.workspace_id)
    rows, cursor = page(stmt, Campaign.id, query.get("limit"), query.get("cursor"))
    return {"items": [campaign_json(c) for c in rows], "next_cursor": cursor}


@bp.get("/campaigns/<campaign_id>")
@bp.auth_required(auth)
@guarded
@bp.output(CampaignOut, description="The campaign.")
@bp.doc(
    summary="Get a campaign",
    operation_id="getCampaign",
    responses=problem_responses(401, 404),
)
def get_campaign(campaign_id: str) -> Any:
    return campaign_json(owned_campaign(campaign_id))


@bp.patch("/campaigns/<campaign_id>")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(CampaignPatch, arg_name="data")
@bp.output(CampaignOut, description="The changed campaign.")
@bp.doc(
    summary="Change a campaign",
    description="Changes only the given fields. The kind never changes; official `rules` are "
    "frozen once published; a closed campaign cannot be changed (409).",
    operation_id="updateCampaign",
    responses=problem_responses(400, 401, 404, 409, 413, 422),
)
def patch_campaign(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id, lock=True)
    if campaign.status == "closed":
        raise Conflict(N_("A closed campaign can no longer be changed."))
    update = partial(service.update_campaign, **_who())
    changed = _saving(update, campaign, data, slug_given="slug" in data)
    return campaign_json(changed)


@bp.post("/campaigns/<campaign_id>/publish")
@bp.auth_required(auth)
@guarded
@bp.output(CampaignOut, description="The campaign, now live.")
@bp.doc(
    summary="Publish a draft campaign",
    description="The campaign goes live. A prize draw needs complete official rules: each "
    "missing one is named in `errors` (`rules.sponsor`, ...). Only a draft can be published.",
    operation_id="publishCampaign",
    responses=problem_responses(401, 404, 409, 422),
)
def publish_campaign(campaign_id: str) -> Any:
    campaign = owned_campaign(campaign_id, lock=True)
    return campaign_json(_saving(service.publish_campaign, campaign))


@bp.post("/campaigns/<campaign_id>/close")
@bp.auth_required(auth)
@guarded
@bp.output(CampaignOut, description="The campaign, now closed.")
@bp.doc(
    summary="Close a live campaign",
    description="No one joins a closed campaign. Only a live campaign can be closed. A prize "
    "draw whose active reward rule gives `entries` for `purchase` or `trial_converted` answers "
    "409 naming the rule (no purchase necessary): switch the rule off first.",
    operation_id="closeCampaign",
    responses=problem_responses(401, 404, 409),
)
def close_campaign(campaign_id: str) -> Any:
    campaign = owned_campaign(campaign_id, lock=True)
    return campaign_json(_saving(service.close_campaign, campaign))
