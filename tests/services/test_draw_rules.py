"""The prize draw's rules that the API's draw routes rely on, asked of the services: the
default minimum age, the committed seed, frozen entries at the close, the winners' mails and
the ``draw.completed`` webhook. The HTTP shape is in tests/web/test_api_draws.py; more of the
draw itself in tests/services/test_lottery.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referral import emails
from referral.domain.draws import commitment
from referral.domain.errors import Conflict
from referral.extensions import db
from referral.models import Campaign, OutboxMessage, Workspace
from referral.models.webhooks import WebhookDelivery
from referral.services import draws, lottery
from referral.services.campaigns import close_campaign, create_campaign, publish_campaign
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, join_campaign
from referral.services.webhooks import create_endpoint
from tests.factories import LOTTERY_RULES, Factory


def live_lottery(workspace: Workspace) -> Campaign:
    data = {"name": "Bike draw", "kind": "lottery", "rules": dict(LOTTERY_RULES)}
    return publish_campaign(create_campaign(workspace, data))


def join(campaign: Campaign, email: str, confirmed: bool = True) -> None:
    join_campaign(campaign, JoinRequest(email=email, confirmed=confirmed))


def closed_lottery(workspace: Workspace, people: int) -> Campaign:
    campaign = live_lottery(workspace)
    for n in range(people):
        join(campaign, f"person{n}@example.org")
    return close_campaign(campaign)


def winner_mails() -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw_winner"))
    )


def test_the_minimum_age_defaults_to_18(factory: Factory) -> None:
    rules = {k: v for k, v in LOTTERY_RULES.items() if k != "min_age"}
    campaign = create_campaign(
        factory.workspace(), {"name": "Default age", "kind": "lottery", "rules": rules}
    )
    assert campaign.settings["rules"]["min_age"] == 18


def test_publishing_commits_to_a_secret_seed(factory: Factory) -> None:
    state = lottery.lottery_of(live_lottery(factory.workspace()))
    assert state is not None and state.entries_digest is None
    assert len(state.commitment) == 64 and commitment(state.seed) == state.commitment


def test_closing_freezes_the_entries_and_no_one_joins_after(factory: Factory) -> None:
    closed = closed_lottery(factory.workspace(), people=3)
    state = lottery.lottery_of(closed)
    assert state is not None and len(state.entries_digest or "") == 64
    with pytest.raises(Conflict):
        join(closed, "late@example.org")


def test_a_late_confirmation_cannot_change_frozen_entries(factory: Factory) -> None:
    campaign = live_lottery(factory.workspace())
    pending = join_campaign(campaign, JoinRequest(email="slow@example.org")).participation
    close_campaign(campaign)
    with pytest.raises(Conflict):
        confirm_participation(pending)
    db.session.expire_all()
    assert pending.confirmed_at is None
    assert (lottery.entry_of(pending).entry_id, lottery.entry_of(pending).entries) == (None, 0)


def test_winners_are_emailed_only_with_a_draw_behind_them(factory: Factory) -> None:
    closed = closed_lottery(factory.workspace(), people=4)
    assert winner_mails() == []
    draw = draws.run_draw(closed, 1, compose=emails.draw_winner)
    [mail] = winner_mails()
    assert f"/draws/{draw.id}/verify" in mail.body_text


def test_a_draw_queues_the_draw_completed_webhook_once(factory: Factory) -> None:
    workspace = factory.workspace()
    create_endpoint(workspace, "https://shop.example.com/hooks", ["draw.completed"])
    db.session.commit()
    draw = draws.run_draw(closed_lottery(workspace, people=3), 1)
    deliveries = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event == "draw.completed")
    ).all()
    assert len(deliveries) == 1
    data = deliveries[0].payload["data"]["draw"]
    assert data["id"] == str(draw.id) and data["winners"] == draw.record["winners"]
    with pytest.raises(Conflict):
        draws.run_draw(db.session.get(Campaign, draw.campaign_id), 1)
    count = select(func.count()).select_from(WebhookDelivery)
    assert db.session.scalar(count) == 1
