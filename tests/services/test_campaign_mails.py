"""A campaign's own confirmation e-mail per locale: sent instead of the workspace's, which
stays the default, and the built-in one below both; the campaign's name in the recipient's
language."""

from __future__ import annotations

from sqlalchemy import select

from referral import emails
from referral.extensions import db
from referral.models import Campaign, OutboxMessage, Workspace
from referral.services import campaign_copies, mail_templates
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory

TEXT = "Hallo {{ customer.first_name }}: {{ confirm_url }}"
WORDS = {"translations": {"de": {"name": "Sommerbohnen", "consent_version": "de-1"}}}


def _campaign(factory: Factory, workspace: Workspace) -> Campaign:
    return factory.campaign(
        workspace, status="live", name="Summer beans", locales=["en", "de", "nl"], settings=WORDS
    )


def _sent(campaign: Campaign, email: str, locale: str) -> OutboxMessage:
    request = JoinRequest(email=email, name="Lena Vogel", locale=locale)
    joined = join_campaign(campaign, request, Visitor(), emails.confirmation)
    found = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.customer_id == joined.participation.customer_id)
    )
    assert found is not None
    return found


def test_a_campaigns_own_version_goes_first_then_the_workspaces_then_the_built_in_one(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    campaign = _campaign(factory, workspace)
    other = _campaign(factory, workspace)
    mail_templates.save_mail_template(
        workspace.id,
        "confirmation",
        "de",
        "Kampagne: {{ campaign.name }}",
        TEXT,
        campaign_id=campaign.id,
    )
    mail_templates.save_mail_template(
        workspace.id, "confirmation", "de", "Workspace: {{ campaign.name }}", TEXT
    )
    mail_templates.save_mail_template(
        workspace.id, "confirmation", "nl", "Werkruimte: {{ campaign.name }}", TEXT
    )
    assert _sent(campaign, "a@example.com", "de_AT").subject == "Kampagne: Sommerbohnen"
    assert _sent(other, "b@example.com", "de").subject == "Workspace: Sommerbohnen"
    assert _sent(campaign, "c@example.com", "nl").subject == "Werkruimte: Summer beans"
    built_in = _sent(campaign, "d@example.com", "en")
    assert built_in.subject == "Please confirm your e-mail address for Summer beans"
    assert mail_templates.sources(workspace.id, "confirmation", campaign.id)["de"] == "campaign"
    assert mail_templates.sources(workspace.id, "confirmation", other.id)["de"] == "workspace"


def test_the_built_in_mail_names_the_campaign_in_the_recipients_language(
    factory: Factory,
) -> None:
    campaign = _campaign(factory, factory.workspace())
    sent = _sent(campaign, "e@example.com", "de")
    assert "Sommerbohnen" in sent.subject and "Sommerbohnen" in sent.body_text
    assert "Summer beans" not in sent.body_text


def test_removing_a_campaigns_version_sends_the_default_again_and_copies_keep_theirs(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    campaign = _campaign(factory, workspace)
    mail_templates.save_mail_template(
        workspace.id, "confirmation", "de", "Eigen", TEXT, campaign_id=campaign.id
    )
    start = mail_templates.starting_text(workspace.id, "confirmation", "de", campaign.id)
    assert start.subject == "Eigen"
    copy = campaign_copies.duplicate_campaign(campaign)
    assert set(mail_templates.versions(workspace.id, "confirmation", copy.id)) == {"de"}
    assert copy.settings["translations"]["de"]["name"] == "Sommerbohnen"
    mail_templates.remove_mail_template(workspace.id, "confirmation", "de", campaign_id=campaign.id)
    assert mail_templates.versions(workspace.id, "confirmation", campaign.id) == {}
    assert _sent(campaign, "f@example.com", "de").subject != "Eigen"
    preview = mail_templates.preview_mail(workspace.id, "confirmation", "de", campaign)
    assert "Sommerbohnen" in preview.subject  # the sample names the campaign in German
