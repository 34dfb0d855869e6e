"""The demo's widgets on other sites: its referral campaign may be shown by the development
server's own embed demo page (``/embed/demo``) and by a page served beside it on
``http://localhost:8000`` (``python -m http.server 8000``), so both work with ``make run``.

Set as a marketer would (audited). Idempotent: a campaign that allows a site is left alone.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from referral.domain.embeds import origin_of
from referral.extensions import db
from referral.models import Campaign
from referral.services import embeds

SLUG = "demo-coffee-friends"
BESIDE = "http://localhost:8000"


def seed_demo_embeds(workspace_id: int) -> None:
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.slug == SLUG)
    )
    if campaign is None or campaign.embed_origins or campaign.status == "closed":
        return
    own = origin_of(current_app.config["PUBLIC_BASE_URL"])
    origins = [origin for origin in (own, BESIDE) if origin]
    embeds.set_embed_origins(campaign, origins, actor="demo")
