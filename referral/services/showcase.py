"""The campaigns a newcomer to a development server can try from its home page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from referral.extensions import db
from referral.models import Campaign, Participation, Workspace
from referral.models.base import utcnow
from referral.services import advocates


def open_campaigns(workspace_slug: str, now: datetime | None = None) -> list[Campaign]:
    """The campaigns of workspace ``workspace_slug`` that take sign-ups now (live, started,
    not ended), by name then id; none for an unknown workspace."""
    moment = now or utcnow()
    return list(
        db.session.scalars(
            select(Campaign)
            .join(Workspace, Workspace.id == Campaign.workspace_id)
            .where(
                Workspace.slug == workspace_slug,
                Campaign.status == "live",
                or_(Campaign.starts_at.is_(None), Campaign.starts_at <= moment),
                or_(Campaign.ends_at.is_(None), Campaign.ends_at > moment),
            )
            .order_by(Campaign.name, Campaign.id)
        )
    )


def embed_demo_campaign(workspace_slug: str) -> Campaign | None:
    """The first referral campaign of workspace ``workspace_slug`` that allows other sites to
    embed its widgets, the one the embed demo page shows (None when there is none)."""
    rows = db.session.scalars(
        select(Campaign)
        .join(Workspace, Workspace.id == Campaign.workspace_id)
        .where(
            Workspace.slug == workspace_slug,
            Campaign.kind == "referral",
            Campaign.status != "draft",
        )
        .order_by(Campaign.id)
    )
    return next((row for row in rows if row.embed_origins), None)


def top_advocate(campaign: Campaign) -> Participation | None:
    """The advocate at the top of the campaign's leaderboard (the embed demo's ``me``)."""
    board = advocates.leaderboard(campaign, limit=1)
    return db.session.get(Participation, board[0]["participation_id"]) if board else None
