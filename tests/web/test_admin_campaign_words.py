"""The campaign form's sections for the words in each language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry
from tests.conftest import Browser
from tests.factories import Factory
from tests.web.test_admin_campaigns import campaign_form, page_text, reload

GERMAN = {
    "words_de-name": "Sommer mit Freunden",
    "words_de-description": "Bring eine Freundin mit.",
    "words_de-benefit": "Ein Eis für euch beide",
    "words_de-consent_text": "Ja, schickt mir E-Mails zu dieser Aktion.",
}


def test_the_edit_form_has_a_section_for_each_other_language_of_the_campaign(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, locales=["en", "de", "nl"])
    page = page_text(browser.client.get(f"/admin/campaigns/{campaign.id}/edit"))
    assert 'data-testid="words-de"' in page and 'data-testid="words-nl"' in page
    assert 'data-testid="words-en"' not in page  # the default language is the form itself
    assert 'data-testid="words-zh_Hans"' not in page  # not offered


def test_saving_a_section_stores_the_words_and_a_consent_version_of_that_language(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, locales=["en", "de", "nl"], slug="summer-words")
    edit = f"/admin/campaigns/{campaign.id}/edit"
    data = campaign_form(
        slug="summer-words",
        locales=["en", "de", "nl"],
        default_locale="en",
        benefit="An ice cream for you both",
        **GERMAN,
    )
    response = browser.post(edit, data, form_page=edit)
    assert response.status_code == 302, page_text(response)
    settings = reload(campaign).settings
    assert settings["benefit"] == "An ice cream for you both"
    assert settings["translations"]["de"]["name"] == "Sommer mit Freunden"
    assert settings["translations"]["de"]["consent_version"] == "de-1"
    assert "nl" not in settings["translations"]  # an empty section stores nothing
    again = page_text(browser.client.get(edit))
    assert "Sommer mit Freunden" in again and "Ein Eis für euch beide" in again
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.content_changed")
    ).one()
    assert audit.data["consent_versions"]["de"] == "de-1"


def test_a_section_without_a_name_comes_back_with_the_message_at_its_name(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, locales=["en", "de"], slug="summer-nameless")
    edit = f"/admin/campaigns/{campaign.id}/edit"
    data = campaign_form(
        slug="summer-nameless",
        locales=["en", "de"],
        **{**GERMAN, "words_de-name": ""},
    )
    response = browser.post(edit, data, form_page=edit)
    assert response.status_code == 422
    assert "A translation needs a name." in page_text(response)
    assert "translations" not in reload(campaign).settings


def test_a_viewer_cannot_open_the_form(browser: Browser, login_as: Any, factory: Factory) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, locales=["en", "de"])
    assert browser.client.get(f"/admin/campaigns/{campaign.id}/edit").status_code == 403
