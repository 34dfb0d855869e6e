"""The demo's prize draws: the live one gets its commitment and a few sign-ups held for
review, a closed one shows a completed, verifiable draw, and its duplicate is the next draw
being prepared. Idempotent: each part is skipped when it is there already."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from referral.demo.campaigns import ESPRESSO_RULES
from referral.extensions import db
from referral.models import Campaign, Lottery
from referral.models.base import utcnow
from referral.services import draws, lottery
from referral.services.campaign_copies import duplicate_campaign
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule

DRAWN_SLUG = "demo-winter-draw"
LIVE_SLUG = "demo-espresso-draw"
# Throwaway addresses: their sign-ups are flagged and wait for review, holding no entry yet.
HELD = ("kim@mailinator.com", "lou@yopmail.com")
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


def _of_demo(workspace_id: int, slug: str) -> Campaign | None:
    return db.session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.slug == slug)
    )


def _held_sign_ups(workspace_id: int) -> None:
    """Sign-ups of the live draw that wait for review (joining again changes nothing)."""
    live = _of_demo(workspace_id, LIVE_SLUG)
    if live is None or live.status != "live":
        return
    for email in HELD:
        join_campaign(live, JoinRequest(email=email, channel="link", confirmed=True), Visitor())


def _next_draw(workspace_id: int) -> None:
    """The completed draw duplicated: next season's draw, a draft with the same rules."""
    drawn = _of_demo(workspace_id, DRAWN_SLUG)
    if drawn is not None and _of_demo(workspace_id, f"{DRAWN_SLUG}-copy") is None:
        duplicate_campaign(drawn, actor="demo")


def seed_demo_lottery(workspace_id: int) -> None:
    """Give the demo a committed live draw with sign-ups held for review, a completed one and
    its duplicate (each only once)."""
    _commit_live_lotteries(workspace_id)
    _held_sign_ups(workspace_id)
    if db.session.scalar(select(Campaign.id).where(Campaign.slug == DRAWN_SLUG)) is None:
        _drawn_lottery(workspace_id)
    _next_draw(workspace_id)
