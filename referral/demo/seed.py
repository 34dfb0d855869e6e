"""Seeding the demo workspace: its three logins, its campaigns and every part of the demo.

Idempotent: a second run only resets the demo logins, adds the parts a newer version brought
(each part skips itself when it is there) and reports what is there.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select

from referral.demo.campaigns import add_referral_rules, create_campaigns
from referral.demo.cascade import cascade
from referral.demo.embeds import seed_demo_embeds
from referral.demo.games import seed_demo_game, seed_demo_trial
from referral.demo.imports import seed_demo_imports
from referral.demo.journeys import seed_demo_journeys
from referral.demo.lottery import seed_demo_lottery
from referral.demo.outbox import seed_demo_outbox
from referral.demo.payments import seed_demo_payments
from referral.demo.privacy import seed_demo_privacy_request
from referral.demo.segments import seed_demo_segments
from referral.demo.surveys import seed_demo_survey
from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookEndpoint
from referral.services import counters, webhooks
from referral.services.accounts import create_admin

DEMO_WORKSPACE = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105  (a documented demo login, not a secret)


def _logins() -> Workspace:
    """The demo workspace with an owner, an editor and a viewer, each with the demo
    password (set again on every run)."""
    admin = create_admin(DEMO_WORKSPACE, DEMO_EMAIL, DEMO_PASSWORD, "owner")
    workspace = admin.workspace
    workspace.name = "Demo Coffee Roasters"
    create_admin(DEMO_WORKSPACE, "editor@example.com", DEMO_PASSWORD, "editor")
    create_admin(DEMO_WORKSPACE, "viewer@example.com", DEMO_PASSWORD, "viewer")
    return workspace


def _campaign_count(workspace_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(Campaign).where(Campaign.workspace_id == workspace_id)
        )
        or 0
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


def _seed_parts(workspace_id: int) -> None:
    """The survey, the prize draws, the free trial, the instant-win game, the webhook, the
    journeys, the outbox's mail, a privacy request, the customer list's import, the
    customers' tags and segment, the Stripe receiver with its refunded order and the sites
    that may show the referral campaign's widgets, each a no-op when it is there (so a demo
    seeded by an older version gains them)."""
    seed_demo_survey(workspace_id)
    seed_demo_lottery(workspace_id)
    seed_demo_trial(workspace_id)
    seed_demo_game(workspace_id)
    _seed_webhook(workspace_id)
    seed_demo_journeys(workspace_id)
    seed_demo_outbox(workspace_id)
    seed_demo_privacy_request(workspace_id)
    seed_demo_imports(workspace_id)
    seed_demo_segments(workspace_id)
    seed_demo_payments(workspace_id)
    seed_demo_embeds(workspace_id)


def _seed_referral_campaign(
    workspace: Workspace, participants: int, progress: Callable[[float], None]
) -> int:
    """The demo's campaigns, and the cascade of ``participants`` in the referral one."""
    rng = random.Random(20261123)  # noqa: S311  (demo data, not security)
    campaigns = create_campaigns(workspace.id, datetime.now(UTC))
    add_referral_rules(campaigns[0])
    count = cascade(workspace, campaigns[0], participants, rng, progress)
    db.session.commit()
    return count


def _recount(workspace_id: int) -> None:
    """The demo writes its rows directly (not through the join and click paths, which keep
    the counters): its campaigns' counters are recounted from those rows."""
    ids = db.session.scalars(
        select(Campaign.id).where(Campaign.workspace_id == workspace_id).order_by(Campaign.id)
    ).all()
    for campaign_id in ids:
        counters.reconcile(campaign_id)


def seed_demo(participants: int = 2500, progress: Callable[[float], None] = lambda f: None) -> str:
    """Create (or refresh the login of) the demo workspace. Returns a one-line summary."""
    workspace = _logins()
    workspace_id = workspace.id  # the cascade empties the session as it goes
    progress(0.05)
    existing = _campaign_count(workspace_id)
    if existing:
        _seed_parts(workspace_id)
        _recount(workspace_id)
        progress(1.0)
        return f"Demo workspace already seeded ({existing} campaigns); login refreshed."
    count = _seed_referral_campaign(workspace, participants, progress)
    _seed_parts(workspace_id)
    _recount(workspace_id)
    progress(1.0)
    seeded = _campaign_count(workspace_id)
    return f"Seeded {seeded} campaigns and a cascade of {count} participants."
