"""Dependency-free factories: each builds a valid row with sensible defaults and commits."""

from __future__ import annotations

import itertools
import secrets
import socket
from datetime import datetime
from typing import Any

from referral.domain.codes import new_code
from referral.extensions import db
from referral.models import (
    ApiKey,
    Campaign,
    Click,
    Customer,
    Marketer,
    Membership,
    Participation,
    Workspace,
)
from referral.services import counters
from referral.services.accounts import hash_password
from referral.services.api_keys import create_api_key

_seq = itertools.count(1)

LOTTERY_RULES: dict[str, Any] = {
    "sponsor": "Example B.V.",
    "sponsor_address": "Main street 1, Amsterdam",
    "timezone": "Europe/Amsterdam",
    "regions": ["NL"],
    "min_age": 18,
    "entry_limit": 1,
    "prizes": [{"name": "Bike", "value": 50000, "currency": "EUR", "quantity": 1}],
    "winners": 1,
    "alternates": 1,
    "claim_days": 14,
    "free_entry_method": "Enter on the page.",
}


class Factory:
    PASSWORD = "correct horse battery"

    def workspace(self, **kw: Any) -> Workspace:
        n = next(_seq)
        row = Workspace(slug=kw.pop("slug", f"ws-{n}"), name=kw.pop("name", f"Brand {n}"), **kw)
        db.session.add(row)
        db.session.commit()
        return row

    def marketer(
        self, role: str = "owner", workspace: Workspace | None = None, email: str | None = None
    ) -> tuple[Marketer, Workspace]:
        workspace = workspace or self.workspace()
        n = next(_seq)
        marketer = Marketer(
            email=email or f"marketer{n}@example.com",
            password_hash=hash_password(self.PASSWORD),
            session_token=secrets.token_hex(32),
        )
        db.session.add(marketer)
        db.session.flush()
        db.session.add(Membership(workspace_id=workspace.id, marketer_id=marketer.id, role=role))
        db.session.commit()
        return marketer, workspace

    def campaign(self, workspace: Workspace | None = None, **kw: Any) -> Campaign:
        workspace = workspace or self.workspace()
        n = next(_seq)
        kw.setdefault("name", f"Campaign {n}")
        kw.setdefault("slug", f"campaign-{n}")
        kw.setdefault("kind", "referral")
        kw.setdefault("status", "draft")
        kw.setdefault("locales", ["en"])
        if kw["kind"] == "lottery":
            kw.setdefault("settings", {"rules": dict(LOTTERY_RULES)})
        row = Campaign(workspace_id=workspace.id, **kw)
        db.session.add(row)
        db.session.commit()
        return row

    def customer(self, workspace: Workspace, email: str | None = None) -> Customer:
        address = email or f"person{next(_seq)}@example.org"
        row = Customer(workspace_id=workspace.id, email=address, email_display=address)
        db.session.add(row)
        db.session.commit()
        return row

    def participation(
        self, campaign: Campaign, referrer: Participation | None = None, **kw: Any
    ) -> Participation:
        workspace = db.session.get(Workspace, campaign.workspace_id)
        assert workspace is not None
        customer = kw.pop("customer", None) or self.customer(workspace)
        row = Participation(
            campaign_id=campaign.id,
            customer_id=customer.id,
            referrer_id=referrer.id if referrer else None,
            depth=referrer.depth + 1 if referrer else 0,
            path=f"{referrer.path}{referrer.id}/" if referrer else "/",
            referral_code=kw.pop("referral_code", new_code()),
            **kw,
        )
        db.session.add(row)
        db.session.flush()
        counters.joined(row)  # as joining counts it
        db.session.commit()
        return row

    def api_key(self, workspace: Workspace) -> tuple[ApiKey, str]:
        return create_api_key(workspace, "test key")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (for servers a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_live_campaign(app: Any, slug: str) -> tuple[int, str]:
    """On ``app``'s database: its schema, a workspace with a live campaign and an API key.
    Returns (campaign id, API key) for a test that drives the app from outside."""
    with app.app_context():
        db.create_all()
        factory = Factory()
        workspace = factory.workspace()
        campaign = factory.campaign(workspace, status="live", slug=slug)
        _, secret = factory.api_key(workspace)
        campaign_id = campaign.id
        db.session.remove()
        db.engine.dispose()
    return campaign_id, secret


def add_click(participation: Participation, created_at: datetime) -> Click:
    """A click on ``participation``'s link, counted as the click writer counts it (added to
    the session, not committed)."""
    row = Click(
        campaign_id=participation.campaign_id,
        participation_id=participation.id,
        created_at=created_at,
    )
    db.session.add(row)
    counters.clicked([{"campaign_id": row.campaign_id, "participation_id": row.participation_id}])
    return row
