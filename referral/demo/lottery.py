"""The demo's prize draws: the live one gets its commitment, and a closed one shows a
completed, verifiable draw. Idempotent: each part is skipped when it is there already."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from referral.demo.campaigns import ESPRESSO_RULES
from referral.extensions import db
from referral.models import Campaign, Lottery
from referral.models.base import utcnow
from referral.services import draws, lottery
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule

DRAWN_SLUG = "demo-winter-draw"
PEOPLE = ("Anna", "Ben", "Chen", "Daan", "Eva", "Femke", "Grace", "Hao", "Ines", "Jan")

# The espresso draw's official rules, with up to five entries and a year of coffee to win.
RULES = {
    **ESPRESSO_RULES,
    "entry_limit": 5,
    "prizes": [{"name": "A year of coffee", "value": 36000, "currency": "EUR", "quantity": 1}],
}


def _commit_live_lotteries(workspace_id: int) -> None:
    """Live demo lotteries seeded as rows (not published through the service) get theirs."""
    live = db.session.scalars(
        select(Campaign).where(
            Campaign.workspace_id == workspace_id,
            Campaign.kind == "lottery",
            Campaign.status == "live",
            Campaign.id.not_in(select(Lottery.campaign_id)),
        )
    ).all()
    for campaign in live:
        lottery.open_lottery(campaign)
    db.session.commit()


def _drawn_lottery(workspace_id: int) -> None:
    campaign = Campaign(
        workspace_id=workspace_id,
        slug=DRAWN_SLUG,
        name="Winter draw: a year of coffee",
        kind="lottery",
        description="One entry per person, a bonus entry for each friend who joins.",
        locales=["en", "de", "nl", "zh_Hans", "zh_Hant"],
        starts_at=utcnow() - timedelta(weeks=8),
        settings={"rules": dict(RULES)},
    )
    db.session.add(campaign)
    db.session.commit()
    publish_campaign(campaign)
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "entries", "amount": 1})
    first = None
    for n, name in enumerate(PEOPLE * 3):
        request = JoinRequest(
            email=f"{name.lower()}.winter{n}@example.com",
            name=name,
            referral_code=first.referral_code if first is not None and n % 3 else None,
            channel="link",
            confirmed=True,
        )
        joined = join_campaign(campaign, request, Visitor()).participation
        first = joined if n % 7 == 0 else first
    close_campaign(campaign)
    draw = draws.run_draw(campaign, RULES["winners"], RULES["alternates"])
    draws.publish_results(draw)


def seed_demo_lottery(workspace_id: int) -> None:
    """Give the demo a committed live draw and a completed one (each only once)."""
    _commit_live_lotteries(workspace_id)
    if db.session.scalar(select(Campaign.id).where(Campaign.slug == DRAWN_SLUG)) is None:
        _drawn_lottery(workspace_id)
