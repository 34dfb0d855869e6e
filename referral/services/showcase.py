"""The campaigns a newcomer to a development server can try from its home page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.models.base import utcnow


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
