"""Participants of a campaign: who joined, through whom, how far they spread it."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from referral.admin import bp
from referral.admin.context import owned_campaign
from referral.models.participation import PARTICIPATION_STATUSES
from referral.security import READ_ROLES, role_required
from referral.services import participants as service

STATUS_NAMES = {
    "pending": _l("Pending"),
    "confirmed": _l("Confirmed"),
    "flagged": _l("Flagged"),
    "rejected": _l("Rejected"),
}


def page_number() -> int:
    """The ``page`` query argument; anything but a positive whole number is page 1."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@bp.route("/campaigns/<int:campaign_id>/participants")
@role_required(*READ_ROLES)
def participants(campaign_id: int) -> Any:
    campaign = owned_campaign(campaign_id)
    status = request.args.get("status", "")
    status = status if status in PARTICIPATION_STATUSES else ""
    search = service.clean_search(request.args.get("q", ""))
    found = service.list_participants(campaign, status or None, search, page_number())
    return render_template(
        "admin/participants.html",
        campaign=campaign,
        page=found,
        status=status,
        search=search,
        status_choices=STATUS_NAMES,
        stats=service.referral_stats(campaign),
        board=service.leaderboard(campaign),
    )
