"""The sites allowed to frame a campaign's widgets, and the short-lived tokens that show a
signed-in customer of such a site their own widget (services/embeds.py)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry
from referral.models.base import utcnow
from referral.services import embeds
from referral.services.campaigns import CampaignClosed
from tests.factories import Factory


def test_allowed_sites_are_saved_in_their_one_spelling_and_the_change_is_audited(
    factory: Factory,
) -> None:
    campaign = factory.campaign(status="live")
    embeds.set_embed_origins(campaign, ["HTTPS://Shop.example.com/", "http://localhost:8000"])
    db.session.expire_all()
    assert campaign.embed_origins == ["https://shop.example.com", "http://localhost:8000"]
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "campaign.embed_origins_changed")
    )
    assert entry is not None and entry.subject == f"campaign:{campaign.id}"
    assert entry.data == {"before": [], "after": campaign.embed_origins}


def test_a_list_with_a_value_that_is_not_a_site_changes_nothing(factory: Factory) -> None:
    campaign = factory.campaign(status="live", embed_origins=["https://shop.example.com"])
    with pytest.raises(ValidationFailed) as caught:
        embeds.set_embed_origins(campaign, ["https://new.example.com", "https://*.example.com"])
    assert list(caught.value.errors) == ["origins"]
    db.session.expire_all()
    assert campaign.embed_origins == ["https://shop.example.com"]


def test_a_closed_campaigns_sites_cannot_change(factory: Factory) -> None:
    campaign = factory.campaign(status="closed")
    with pytest.raises(CampaignClosed):
        embeds.set_embed_origins(campaign, ["https://shop.example.com"])


def test_a_token_names_one_participant_of_one_campaign(factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    participant = factory.participation(campaign)
    issued = embeds.issue_token(campaign, {"participant_id": str(participant.id)})
    assert issued.participant_id == participant.id
    assert 0 < (issued.expires_at - utcnow()).total_seconds() <= embeds.TOKEN_SECONDS
    assert embeds.participant_of_token(campaign, issued.token) == participant
    other = factory.campaign(status="live")
    with pytest.raises(embeds.EmbedTokenRefused):
        embeds.participant_of_token(other, issued.token)


def test_a_token_is_issued_by_the_participants_address_in_any_spelling(factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    participant = factory.participation(campaign)
    email = participant.customer.email.upper()
    issued = embeds.issue_token(campaign, {"email": email})
    assert issued.participant_id == participant.id


@pytest.mark.parametrize(
    "data",
    [{}, {"participant_id": "1", "email": "a@example.com"}, {"email": "nobody@example.com"}],
)
def test_a_token_for_nobody_or_for_two_ways_of_naming_is_refused(
    factory: Factory, data: dict[str, str]
) -> None:
    campaign = factory.campaign(status="live")
    factory.participation(campaign)
    with pytest.raises(ValidationFailed):
        embeds.issue_token(campaign, data)


def test_a_participant_of_another_campaign_gets_no_token(factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    elsewhere = factory.participation(factory.campaign(status="live"))
    with pytest.raises(ValidationFailed) as caught:
        embeds.issue_token(campaign, {"participant_id": str(elsewhere.id)})
    assert "participant_id" in caught.value.errors


def test_an_expired_token_says_so(app: Flask, factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    participant = factory.participation(campaign)
    token = embeds.issue_token(campaign, {"participant_id": str(participant.id)}).token
    app.config["EMBED_TOKEN_SECONDS"] = -1  # every token is now past its time
    with pytest.raises(embeds.EmbedTokenExpired) as caught:
        embeds.participant_of_token(campaign, token)
    assert caught.value.status == 401


@pytest.mark.parametrize("change", ["tamper", "empty", "garbage", "long"])
def test_an_altered_or_made_up_token_is_refused(factory: Factory, change: str) -> None:
    campaign = factory.campaign(status="live")
    participant = factory.participation(campaign)
    token = embeds.issue_token(campaign, {"participant_id": str(participant.id)}).token
    payload, stamp, signature = token.split(".")
    forged = {
        "tamper": f"{payload}.{stamp}.{signature[:-2]}xx",
        "empty": "",
        "garbage": "not-a-token",
        "long": token * 10,
    }[change]
    with pytest.raises(embeds.EmbedTokenRefused) as caught:
        embeds.participant_of_token(campaign, forged)
    assert caught.value.status == 403


def test_a_rejected_participants_token_no_longer_opens_anything(factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    participant = factory.participation(campaign)
    token = embeds.issue_token(campaign, {"participant_id": str(participant.id)}).token
    participant.status = "rejected"
    db.session.commit()
    with pytest.raises(embeds.EmbedTokenRefused):
        embeds.participant_of_token(campaign, token)
    with pytest.raises(ValidationFailed):
        embeds.issue_token(campaign, {"participant_id": str(participant.id)})
