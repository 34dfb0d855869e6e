"""Public lottery pages: the official rules, and every draw's record with a page that
re-derives the winners (in the browser, and on the server) so anyone can check them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l

from referral.domain.draws import verify_record
from referral.models import Campaign, Draw
from referral.public import bp
from referral.services import draw_results, draws, joining, lottery

# The checks of ``domain.draws.verify_record`` by name, for the reader's language.
CHECK_NAMES = {
    "record": _l("The record is complete"),
    "algorithm": _l("The algorithm is referral-draw-v1"),
    "commitment": _l("The seed matches the commitment published at the opening"),
    "entries_digest": _l("The entries match the digest published at the close"),
    "winners": _l("Re-running the draw gives the published winners"),
    "alternates": _l("Re-running the draw gives the published alternates"),
}


@bp.route("/c/<slug>/rules")
def lottery_rules(slug: str) -> Any:
    """The official rules of a prize draw, generated from its fields in the reader's language.

    :raise NotFound: unknown slug, a draft, or a campaign that is not a prize draw.
    """
    campaign = joining.public_campaign(slug)
    if campaign.kind != "lottery":
        abort(404)
    rules = lottery.with_defaults(lottery.official_rules(campaign))
    state = lottery.lottery_of(campaign)
    draw = draws.draw_of(campaign)
    return render_template(
        "public/lottery_rules.html",
        campaign=campaign,
        rules=rules,
        lottery=state,
        versions=lottery.rules_versions(campaign),
        draw=draw,
        period=(_local(campaign.starts_at, rules), _local(campaign.ends_at, rules)),
        held=lottery.held_for_review(campaign) if campaign.status == "live" else 0,
    )


def _local(moment: datetime | None, rules: dict[str, Any]) -> str:
    """``moment`` in the draw's own time zone, written with its offset (the rules bind)."""
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(str(rules.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z (UTC%z)")


def _public_draw(draw_id: int) -> tuple[Draw, Campaign]:
    found = draws.public_draw(draw_id)
    if found is None:
        abort(404)
    return found


@bp.route("/draws/<int:draw_id>/verify")
def verify_draw(draw_id: int) -> Any:
    """The draw's record, checked on the server and again by our script in the browser."""
    found, campaign = _public_draw(draw_id)
    record = draws.published_record(found)
    report = verify_record(found.record)
    winners = draw_results.winner_rows(found) if found.results_published else []
    return render_template(
        "public/draw_verify.html",
        campaign=campaign,
        draw=found,
        record=record,
        report=report,
        check_names=CHECK_NAMES,
        current_winners=draws.current_winners(found),
        winners=[(row.entry_id, draw_results.masked(row.name)) for row in winners],
        json_url=url_for(".draw_json", draw_id=found.id),
    )


@bp.route("/draws/<int:draw_id>.json")
def draw_json(draw_id: int) -> Any:
    """The published record as a file to keep and check with ``referral verify-draw``."""
    found, _campaign = _public_draw(draw_id)
    body = json.dumps(draws.published_record(found), ensure_ascii=False, indent=1)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="draw-{found.id}.json"'
    return response
