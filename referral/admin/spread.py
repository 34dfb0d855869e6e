"""A campaign's spread: the dashboard, the interactive graph view and the exports.

Everything here reads (viewers too) and is scoped to the marketer's workspace: a campaign
of another workspace answers 404 on every route, as one that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import NotFound

from referral.admin import bp, vendor  # noqa: F401  (vendor: the view's libraries)
from referral.admin.context import owned_campaign
from referral.admin.participants import STATUS_NAMES
from referral.extensions import talisman
from referral.headers import CHART_CSP
from referral.security import READ_ROLES, role_required
from referral.services import dashboard as service
from referral.services import exports, spread_view
from referral.services import spread as spread_service

NO_DATA = _l("No data yet")
CHART_LABELS = {
    "funnel": {
        "title": _l("Funnel"),
        "visits": _l("Visits"),
        "joins": _l("Joins"),
        "confirmed": _l("Confirmed"),
        "converted": _l("Converted"),
    },
    "growth": {
        "title": _l("Growth per day"),
        "joined": _l("Joins"),
        "confirmed": _l("Confirmed"),
        "cumulative": _l("All participants so far (right axis)"),
    },
    "generations": {
        "title": _l("Participants per generation"),
        "x_title": _l("Generation (0 = joined without a referral)"),
        "joined": _l("Joins"),
        "confirmed": _l("Confirmed"),
    },
    "channels": {"title": _l("Joins by channel")},
    "sources": {"title": _l("Joins by utm_source")},
}
CSV = "text/csv; charset=utf-8"
MAX_ID = 2**31 - 1  # ids are INTEGER columns
EXPORTS = {
    "graphml": _l("GraphML"),
    "gexf": _l("GEXF (Gephi)"),
    "json": _l("JSON"),
    "csv": _l("Graph CSV"),
    "participants": _l("Participants CSV"),
    "ledger": _l("Ledger CSV"),
}


def _route_each(rule: str, view: Any, argument: str, names: Iterable[str]) -> None:
    """One fixed URL per name, none with a free-form path part, so each is a listable
    address: ``rule`` holds ``{}`` where the name goes, ``view`` gets it as ``argument``."""
    for name in names:
        bp.add_url_rule(rule.format(name), view_func=view, defaults={argument: name})


def max_nodes() -> int:
    """How many nodes the browser draws before groups replace the deepest ones."""
    return int(current_app.config.get("REFERRAL_SPREAD_VIEW_MAX_NODES", spread_view.VIEW_MAX_NODES))


@bp.route("/campaigns/<int:campaign_id>/dashboard")
@role_required(*READ_ROLES)
def campaign_dashboard(campaign_id: int) -> Any:
    campaign = owned_campaign(campaign_id)
    data = service.dashboard(campaign)
    delay = data["metrics"]["median_time_to_first_referral_s"]
    return render_template(
        "admin/dashboard.html",
        campaign=campaign,
        charts=CHART_LABELS,
        exports=EXPORTS,
        median_delay=timedelta(seconds=delay) if delay is not None else None,
        **data,
    )


@talisman(content_security_policy=CHART_CSP)
@role_required(*READ_ROLES)
def campaign_chart(campaign_id: int, chart: str) -> Any:
    campaign = owned_campaign(campaign_id)
    labels = {key: str(text) for key, text in CHART_LABELS[chart].items()}
    svg = service.chart_svg(campaign, chart, {**labels, "no_data": str(NO_DATA)})
    response = Response(svg, mimetype="image/svg+xml")
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


_route_each("/campaigns/<int:campaign_id>/dashboard/{}.svg", campaign_chart, "chart", CHART_LABELS)


@bp.route("/campaigns/<int:campaign_id>/spread")
@role_required(*READ_ROLES)
def campaign_spread(campaign_id: int) -> Any:
    campaign = owned_campaign(campaign_id)
    return render_template(
        "admin/spread.html",
        campaign=campaign,
        size=spread_service.campaign_metrics(campaign)["size"],
        max_nodes=max_nodes(),
        status_choices=STATUS_NAMES,
        exports=EXPORTS,
    )


@bp.route("/campaigns/<int:campaign_id>/spread.json")
@role_required(*READ_ROLES)
def campaign_spread_json(campaign_id: int) -> Any:
    campaign = owned_campaign(campaign_id)
    root, after = _whole_number("root"), _whole_number("after")
    response = jsonify(spread_view.spread_view(campaign, max_nodes(), root, after))
    response.cache_control.no_store = True
    return response


def _whole_number(name: str) -> int | None:
    """The query argument ``name`` as a whole number, None when absent.

    :raise NotFound: when it is there but no whole number an id column can hold (a larger
        one would reach PostgreSQL and fail there, instead of finding nothing).
    """
    raw = request.args.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        raise NotFound()
    return int(raw)


@bp.route("/campaigns/<int:campaign_id>/spread/find")
@role_required(*READ_ROLES)
def campaign_spread_find(campaign_id: int) -> Any:
    """``{"id", "ancestors"}`` of the first match; ``{"id": null, "error"}`` for none."""
    campaign = owned_campaign(campaign_id)
    term = request.args.get("q", "")
    found = spread_view.find_node(campaign, term)
    if found is None:
        message = _("Nobody in this graph matches “%(term)s”.", term=term.strip()[:80])
        return jsonify({"id": None, "ancestors": [], "error": message})
    return jsonify(found)


@role_required(*READ_ROLES)
def campaign_export(campaign_id: int, kind: str) -> Any:
    campaign = owned_campaign(campaign_id)
    marketer = current_user._get_current_object()
    stem = re.sub(r"[^a-z0-9-]", "", campaign.slug) or "campaign"
    if kind in exports.GRAPH_FORMATS:
        content, mimetype, extension = exports.export_graph(campaign, kind, marketer)
        filename = f"spread.{extension}"
    else:
        make = exports.participants_csv if kind == "participants" else exports.ledger_csv
        content, mimetype, filename = make(campaign, marketer), CSV, f"{kind}.csv"
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-{filename}"'
    response.cache_control.no_store = True
    return response


_route_each("/campaigns/<int:campaign_id>/export/{}", campaign_export, "kind", EXPORTS)
