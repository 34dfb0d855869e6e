"""The demo's free trial (some converted, some running, some ended) and its instant-win
game (a prize table and a few dozen plays). Idempotent: a campaign that has its trials or
its prizes is left alone. Small on purpose, so ``referral demo`` stays fast."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from referral.demo.rows import flushed
from referral.domain.codes import new_code
from referral.domain.emails import normalise_email
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    InstantWinPrize,
    Participation,
    RewardRule,
    Trial,
)
from referral.services import instant_win, trials
from referral.services.events import record_event, report_event
from referral.services.rewards import pay_for_event

TRIAL_SLUG = "demo-subscription-trial"
GAME_SLUG = "demo-spin-to-win"
NAMES = ["Mila", "Noah", "Emma", "Liam", "Sofia", "Lucas", "Yara", "Finn", "Mei", "Wen"]
PRIZES = [("Espresso cup set", "2", 5), ("Coffee mug", "8", 30), ("Bag of beans", "15", 60)]


def _campaign(workspace_id: int, slug: str, **spec: object) -> Campaign:
    found = db.session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.slug == slug)
    )
    if found is None:
        found = Campaign(workspace_id=workspace_id, slug=slug, status="draft", **spec)
        db.session.add(found)
    if found.status == "draft":
        found.status = "live"
        found.published_at = found.starts_at or datetime.now(UTC)
    db.session.flush()
    return found


def _seeded_before(column: Any, campaign: Campaign) -> bool:
    """Whether ``campaign`` has rows of ``column``'s table (its part of the demo is there);
    then the campaign's own changes are committed and nothing more is seeded."""
    if not db.session.scalar(select(func.count()).where(column == campaign.id)):
        return False
    db.session.commit()
    return True


def _person(
    campaign: Campaign, n: int, rng: random.Random, referrer: Participation | None, joined: datetime
) -> Participation:
    name = rng.choice(NAMES)
    raw = f"{name.lower()}.{campaign.slug.split('-')[1]}{n}@example.com"
    customer = Customer(
        workspace_id=campaign.workspace_id,
        email=normalise_email(raw),
        email_display=raw,
        name=name,
        locale="en",
    )
    flushed(customer)
    person = Participation(
        campaign_id=campaign.id,
        customer_id=customer.id,
        referrer_id=referrer.id if referrer else None,
        depth=referrer.depth + 1 if referrer else 0,
        path=f"{referrer.path}{referrer.id}/" if referrer else "/",
        referral_code=new_code(),
        channel="whatsapp" if referrer else "direct",
        referral_status="referred" if referrer else "none",
        status="pending",
        created_at=joined,
    )
    return flushed(person)


def _confirm(campaign: Campaign, person: Participation, at: datetime) -> None:
    person.status, person.confirmed_at = "confirmed", at
    event = record_event(
        campaign.workspace_id,
        person,
        "signup_confirmed",
        external_id=f"confirm:{person.id}",
        occurred_at=at,
    )
    db.session.flush()
    pay_for_event(event, person, campaign)


def seed_demo_trial(workspace_id: int, size: int = 48) -> None:
    """A 30-day trial campaign with people who joined over the last six weeks: some still
    pending, most confirmed (their trials started then), about a third converted."""
    now = datetime.now(UTC)
    campaign = _campaign(
        workspace_id,
        TRIAL_SLUG,
        name="30-day coffee subscription trial",
        kind="trial",
        description="Try the subscription free for 30 days.",
        reward_depth=2,
        locales=["en"],
        starts_at=now - timedelta(weeks=7),
    )
    if _seeded_before(Trial.campaign_id, campaign):
        return
    campaign.settings = {**(campaign.settings or {}), "trial": {"days": 30, "reminder_days": 5}}
    db.session.add(
        RewardRule(
            campaign_id=campaign.id, event="trial_converted", level=1, reward="points", amount=500
        )
    )
    rng = random.Random(20261126)  # noqa: S311  (demo data, not security)
    people: list[Participation] = []
    converting: list[Participation] = []
    for n in range(size):
        joined = now - timedelta(days=42 * (1 - n / size), hours=rng.randint(0, 12))
        referrer = rng.choice(people) if people and rng.random() < 0.6 else None
        person = _person(campaign, n, rng, referrer, joined)
        people.append(person)
        if rng.random() < 0.85:
            confirmed_at = joined + timedelta(minutes=rng.randint(2, 300))
            _confirm(campaign, person, confirmed_at)
            trials.start_trial(campaign, person, now=confirmed_at)
            if rng.random() < 0.4:
                converting.append(person)
    db.session.commit()
    for person in converting:
        report_event(campaign, person, "trial_converted", external_id=f"demo-sub-{person.id}")


def seed_demo_game(workspace_id: int, players: int = 36) -> None:
    """A spin-the-wheel campaign with three prizes and a play for most of its players."""
    now = datetime.now(UTC)
    campaign = _campaign(
        workspace_id,
        GAME_SLUG,
        name="Spin the coffee wheel",
        kind="instant_win",
        description="Spin once a day, and once more for every friend who joins.",
        reward_depth=1,
        locales=["en", "de", "nl"],
        starts_at=now - timedelta(weeks=1),
    )
    if _seeded_before(InstantWinPrize.campaign_id, campaign):
        return
    for name, chance, stock in PRIZES:
        instant_win.add_prize(campaign, {"name": name, "chance": chance, "inventory": stock})
    rng = random.Random(20261127)  # noqa: S311  (demo data, not security)
    people: list[Participation] = []
    for n in range(players):
        joined = now - timedelta(days=6 * (1 - n / players))
        referrer = rng.choice(people) if people and rng.random() < 0.5 else None
        person = _person(campaign, n, rng, referrer, joined)
        _confirm(campaign, person, joined + timedelta(minutes=rng.randint(2, 90)))
        people.append(person)
    db.session.commit()
    for person in people:
        if rng.random() < 0.8:
            instant_win.play(campaign, person)
