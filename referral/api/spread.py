"""The spread of a campaign: its metrics, or its referral graph as a file."""

from __future__ import annotations

from typing import Any

from flask import Response

from referral.api.engine_schemas import SpreadOut, SpreadQuery
from referral.api.lookup import owned_campaign
from referral.api.openapi import EXTRA_CONTENT
from referral.api.operations import lists
from referral.services.spread import campaign_export, campaign_metrics

_FILE = {"schema": {"type": "string"}}
# The graph files, documented next to the JSON metrics of the same 200 answer.
EXTRA_CONTENT["getSpread"] = {
    "application/graphml+xml": _FILE,
    "application/gexf+xml": _FILE,
    "text/csv": _FILE,
}


@lists(
    "GET /campaigns/<campaign_id>/spread",
    "getSpread",
    "Get a campaign's spread",
    SpreadOut,
    "`format=json`: the spread metrics. `graphml`, `gexf`: the graph "
    "(referrer → referee); `csv`: one row per participant.",
    description="How word of mouth spread: size, depth, k-factor, structural virality, top "
    "advocates and channels (definitions: docs/DESIGN.md, Spread metrics), or the whole "
    "referral graph as GraphML, GEXF or CSV.",
    query=SpreadQuery,
)
def get_spread(campaign_id: str, query: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    fmt = query["format"]
    if fmt == "json":
        return campaign_metrics(campaign)  # the schema writes the advocates' ids as strings
    content, mimetype, extension = campaign_export(campaign, fmt)
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign.id}-spread.{extension}"'
    )
    return response
