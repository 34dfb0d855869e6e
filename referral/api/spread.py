"""The spread of a campaign: its metrics, or its referral graph as a file."""

from __future__ import annotations

from typing import Any

from flask import Response

from referral.api import bp
from referral.api.auth import auth
from referral.api.engine_schemas import SpreadOut, SpreadQuery
from referral.api.guard import guarded
from referral.api.lookup import owned_campaign
from referral.api.openapi import EXTRA_CONTENT, problem_responses
from referral.services.spread import campaign_export, campaign_metrics

_FILE = {"schema": {"type": "string"}}
# The graph files, documented next to the JSON metrics of the same 200 answer.
EXTRA_CONTENT["getSpread"] = {
    "application/graphml+xml": _FILE,
    "application/gexf+xml": _FILE,
    "text/csv": _FILE,
}


def _with_string_ids(metrics: dict[str, Any]) -> dict[str, Any]:
    """A copy (the cached result is shared) whose advocate ids are strings, as all API ids."""
    top = {
        order: [{**advocate, "id": str(advocate["id"])} for advocate in advocates]
        for order, advocates in metrics["top_advocates"].items()
    }
    return {**metrics, "top_advocates": top}


@bp.get("/campaigns/<campaign_id>/spread")
@bp.auth_required(auth)
@guarded
@bp.input(SpreadQuery, location="query", arg_name="query")
@bp.output(
    SpreadOut,
    description="`format=json`: the spread metrics. `graphml`, `gexf`: the graph (referrer → "
    "referee); `csv`: one row per participant.",
)
@bp.doc(
    summary="Get a campaign's spread",
    description="How word of mouth spread: size, depth, k-factor, structural virality, top "
    "advocates and channels (definitions: docs/DESIGN.md, Spread metrics), or the whole "
    "referral graph as GraphML, GEXF or CSV.",
    operation_id="getSpread",
    responses=problem_responses(401, 404, 422),
)
def get_spread(campaign_id: str, query: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    fmt = query["format"]
    if fmt == "json":
        return _with_string_ids(campaign_metrics(campaign))
    content, mimetype, extension = campaign_export(campaign, fmt)
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign.id}-spread.{extension}"'
    )
    return response
