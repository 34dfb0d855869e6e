"""The workspace and live referral campaign the benchmarks run on (``import shop`` from a
script in this folder: Python puts the script's folder on the path)."""

from __future__ import annotations

from referral.extensions import db
from referral.models import Campaign, Workspace


def live_campaign() -> tuple[Workspace, Campaign]:
    """A workspace ``bench`` with a live English referral campaign of reward depth 1,
    flushed in the caller's transaction."""
    workspace = Workspace(slug="bench", name="Bench")
    db.session.add(workspace)
    db.session.flush()
    campaign = Campaign(
        workspace_id=workspace.id,
        slug="bench",
        name="Bench",
        kind="referral",
        status="live",
        locales=["en"],
        reward_depth=1,
    )
    db.session.add(campaign)
    db.session.flush()
    return workspace, campaign
