"""``referral demo``: a workspace that shows every feature with realistic data.

Idempotent: a second run only resets the demo login and reports what is there.
The cascade is random but seeded, so every install shows the same picture: a few large
branches carried by strong advocates and many small ones, as real word of mouth looks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from referral.domain.codes import new_code
from referral.domain.emails import normalise_email
from referral.extensions import db
from referral.models import (
    Campaign,
    Click,
    Customer,
    Event,
    Participation,
    RewardRule,
    Workspace,
)
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookEndpoint
from referral.services import webhooks
from referral.services.accounts import create_admin
from referral.services.demo_games import seed_demo_game, seed_demo_trial
from referral.services.demo_lottery import seed_demo_lottery
from referral.services.demo_surveys import seed_demo_survey
from referral.services.rewards import pay_for_event

DEMO_WORKSPACE = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105  (a documented demo login, not a secret)

FIRST = [
    "Anna",
    "Ben",
    "Chen",
    "Daan",
    "Eva",
    "Femke",
    "Grace",
    "Hao",
    "Ines",
    "Jan",
    "Kai",
    "Lena",
    "Mei",
    "Noah",
    "Olivia",
    "Pieter",
    "Qing",
    "Ruth",
    "Sven",
    "Tao",
    "Uma",
    "Vera",
    "Wei",
    "Xin",
    "Yara",
    "Zoe",
    "Lukas",
    "Mila",
    "Finn",
    "Sara",
]
LAST = [
    "Smith",
    "Müller",
    "de Vries",
    "Wang",
    "Lin",
    "Jansen",
    "Schmidt",
    "Bakker",
    "Li",
    "Chen",
    "Huang",
    "Visser",
    "Weber",
    "Zhang",
    "Meyer",
    "Wu",
    "Hoffmann",
    "Smit",
    "Liu",
    "Wagner",
]
REFERRED_CHANNELS = ["link", "qr", "whatsapp", "email", "wechat", "x", "line"]
REFERRED_WEIGHTS = [52, 16, 13, 8, 6, 3, 2]
ROOT_SOURCES = ["newsletter", "instagram", "store", "google"]


def _campaign_specs(now: datetime) -> list[dict[str, object]]:
    weeks_ago = now - timedelta(weeks=6)
    return [
        {
            "slug": "demo-coffee-friends",
            "name": "Invite friends, get a free bag of coffee",
            "kind": "referral",
            "status": "live",
            "description": (
                "Share your link: when a friend joins, you both get points toward a free bag."
            ),
            "reward_depth": 1,
            "locales": ["en", "de", "nl", "zh_Hans", "zh_Hant"],
            "starts_at": weeks_ago,
        },
        {
            "slug": "demo-espresso-draw",
            "name": "Win an espresso machine",
            "kind": "lottery",
            "status": "live",
            "description": (
                "One entry per person, bonus entries for friends who join. No purchase necessary."
            ),
            "reward_depth": 1,
            "locales": ["en", "de", "nl"],
            "starts_at": now - timedelta(weeks=2),
            "ends_at": now + timedelta(weeks=2),
            "settings": {
                "rules": {
                    "sponsor": "Demo Coffee Roasters B.V.",
                    "sponsor_address": "Koffiestraat 1, 1011 AB Amsterdam, NL",
                    "timezone": "Europe/Amsterdam",
                    "regions": ["NL", "BE", "DE"],
                    "min_age": 18,
                    "entry_limit": 1,
                    "prizes": [
                        {
                            "name": "Espresso machine",
                            "value": 89900,
                            "currency": "EUR",
                            "quantity": 1,
                        }
                    ],
                    "winners": 1,
                    "alternates": 2,
                    "claim_days": 14,
                    "free_entry_method": "Enter on this page; no purchase is needed.",
                }
            },
        },
        {
            "slug": "demo-taste-survey",
            "name": "Tell us your taste, win a tasting box",
            "kind": "survey",
            "status": "live",
            "description": "Five quick questions about how you like your coffee.",
            "reward_depth": 1,
            "locales": ["en", "de"],
            "starts_at": now - timedelta(weeks=1),
        },
        {
            "slug": "demo-subscription-trial",
            "name": "30-day coffee subscription trial",
            "kind": "trial",
            "status": "draft",
            "description": "Try the subscription free for 30 days.",
            "reward_depth": 2,
            "locales": ["en"],
        },
    ]


def _customer(workspace: Workspace, rng: random.Random, n: int) -> Customer:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    raw = f"{first}.{last.replace(' ', '')}{n}@example.com".lower()
    return Customer(
        workspace_id=workspace.id,
        email=normalise_email(raw),
        email_display=raw,
        name=f"{first} {last}",
        locale=rng.choice(["en", "en", "de", "nl", "zh_Hans", "zh_Hant"]),
    )


def _pick_referrer(rng: random.Random, tickets: list[int]) -> int:
    """Preferential attachment: a participant with k referrals holds k + 1 tickets."""
    return tickets[rng.randrange(len(tickets))]


def _cascade(
    workspace: Workspace,
    campaign: Campaign,
    size: int,
    rng: random.Random,
    progress: Callable[[float], None],
) -> int:
    start = campaign.starts_at or datetime.now(UTC) - timedelta(weeks=6)
    span = (datetime.now(UTC) - timedelta(hours=1) - start).total_seconds()
    # (id, depth, path) per participant: plain tuples, so the session can be emptied in batches
    nodes: list[tuple[int, int, str]] = []
    tickets: list[int] = []  # indexes into nodes, confirmed ones only
    workspace_id, campaign_id = workspace.id, campaign.id
    for n in range(size):
        joined = start + timedelta(seconds=span * (n / size) ** 0.8)
        customer = _customer(workspace, rng, n)
        db.session.add(customer)
        parent_index = _pick_referrer(rng, tickets) if tickets and rng.random() > 0.07 else None
        parent = nodes[parent_index] if parent_index is not None else None
        db.session.flush()
        roll = rng.random()
        status = "confirmed" if roll < 0.8 else "pending" if roll < 0.95 else "flagged"
        if roll > 0.99:
            status = "rejected"
        node = Participation(
            campaign_id=campaign.id,
            customer_id=customer.id,
            referrer_id=parent[0] if parent else None,
            depth=parent[1] + 1 if parent else 0,
            path=f"{parent[2]}{parent[0]}/" if parent else "/",
            referral_code=new_code(),
            channel=rng.choices(REFERRED_CHANNELS, REFERRED_WEIGHTS)[0] if parent else "direct",
            utm={} if parent else {"utm_source": rng.choice(ROOT_SOURCES)},
            status=status,
            referral_status="referred" if parent else "none",
            flag_reasons=["many_signups_same_device"] if status == "flagged" else [],
            created_at=joined,
            confirmed_at=joined + timedelta(minutes=rng.randint(1, 600))
            if status in ("confirmed", "flagged") and roll < 0.985
            else None,
        )
        db.session.add(node)
        db.session.flush()
        nodes.append((node.id, node.depth, node.path))
        _timeline(workspace, campaign, customer, node, parent[0] if parent else None, rng)
        if status == "confirmed":
            tickets.append(len(nodes) - 1)
            if parent_index is not None:
                tickets.append(parent_index)
        if n % 200 == 199:
            db.session.commit()
            db.session.expunge_all()
            workspace = db.session.get(Workspace, workspace_id)  # type: ignore[assignment]
            campaign = db.session.get(Campaign, campaign_id)  # type: ignore[assignment]
            progress(0.1 + 0.85 * n / size)
    return len(nodes)


def _timeline(
    workspace: Workspace,
    campaign: Campaign,
    customer: Customer,
    node: Participation,
    parent_id: int | None,
    rng: random.Random,
) -> None:
    if parent_id is not None:
        db.session.add(
            Click(
                campaign_id=campaign.id,
                participation_id=parent_id,
                channel=node.channel,
                created_at=node.created_at - timedelta(minutes=rng.randint(1, 120)),
            )
        )
    events = [("entered", node.created_at, None)]
    if node.confirmed_at:
        events.append(("signup_confirmed", node.confirmed_at, None))
        if rng.random() < 0.12:
            events.append(("purchase", node.confirmed_at + timedelta(days=rng.randint(1, 9)), 2499))
    for kind, at, amount in events:
        event = Event(
            workspace_id=workspace.id,
            customer_id=customer.id,
            campaign_id=campaign.id,
            participation_id=node.id,
            kind=kind,
            amount=amount,
            currency="EUR" if amount else None,
            external_id=f"demo-{kind}-{node.id}",
            occurred_at=at,
        )
        db.session.add(event)
        if kind in ("signup_confirmed", "purchase"):
            db.session.flush()
            pay_for_event(event, node, campaign)


def _rules(campaign: Campaign) -> None:
    for event, level, reward, amount in (
        ("signup_confirmed", 0, "points", 50),
        ("signup_confirmed", 1, "points", 100),
        ("purchase", 1, "points", 500),
    ):
        db.session.add(
            RewardRule(
                campaign_id=campaign.id, event=event, level=level, reward=reward, amount=amount
            )
        )
    db.session.add(
        RewardRule(campaign_id=campaign.id, milestone=5, level=1, reward="points", amount=1000)
    )


def _seed_webhook(workspace_id: int) -> None:
    """A paused example endpoint, so the webhooks page shows how one looks (paused: the
    demo sends nothing to an address nobody owns)."""
    exists = db.session.scalar(
        select(WebhookEndpoint.id).where(WebhookEndpoint.workspace_id == workspace_id)
    )
    if exists is not None:
        return
    workspace = db.session.get(Workspace, workspace_id)
    assert workspace is not None
    endpoint = webhooks.create_endpoint(
        workspace, "https://shop.example.com/hooks/referral", list(WEBHOOK_EVENTS)
    )
    webhooks.set_active(endpoint, False)


def seed_demo(participants: int = 2500, progress: Callable[[float], None] = lambda f: None) -> str:
    """Create (or refresh the login of) the demo workspace. Returns a one-line summary."""
    admin = create_admin(DEMO_WORKSPACE, DEMO_EMAIL, DEMO_PASSWORD, "owner")
    workspace = admin.workspace
    workspace.name = "Demo Coffee Roasters"
    create_admin(DEMO_WORKSPACE, "editor@example.com", DEMO_PASSWORD, "editor")
    create_admin(DEMO_WORKSPACE, "viewer@example.com", DEMO_PASSWORD, "viewer")
    progress(0.05)
    existing = db.session.scalar(
        select(func.count()).select_from(Campaign).where(Campaign.workspace_id == workspace.id)
    )
    if existing:
        seed_demo_survey(workspace.id)  # a no-op unless the survey came after the first seed
        seed_demo_lottery(workspace.id)  # likewise for the drawn lottery
        seed_demo_trial(workspace.id)  # and the free trial and the instant-win game
        seed_demo_game(workspace.id)
        _seed_webhook(workspace.id)
        progress(1.0)
        return f"Demo workspace already seeded ({existing} campaigns); login refreshed."
    rng = random.Random(20261123)  # noqa: S311  (demo data, not security)
    now = datetime.now(UTC)
    campaigns = []
    for spec in _campaign_specs(now):
        campaign = Campaign(workspace_id=workspace.id, **spec)
        if campaign.status == "live":
            campaign.published_at = campaign.starts_at
        db.session.add(campaign)
        campaigns.append(campaign)
    db.session.flush()
    _rules(campaigns[0])
    workspace_id = workspace.id  # the cascade empties the session as it goes
    count = _cascade(workspace, campaigns[0], participants, rng, progress)
    db.session.commit()
    seed_demo_survey(workspace_id)
    seed_demo_lottery(workspace_id)
    seed_demo_trial(workspace_id)
    seed_demo_game(workspace_id)
    _seed_webhook(workspace_id)
    progress(1.0)
    seeded = db.session.scalar(
        select(func.count()).select_from(Campaign).where(Campaign.workspace_id == workspace_id)
    )
    return f"Seeded {seeded} campaigns and a cascade of {count} participants."
