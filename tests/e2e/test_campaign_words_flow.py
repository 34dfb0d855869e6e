"""A marketer writes a campaign's German words in the admin; a German visitor sees them and
agrees to a German sentence, a Dutch visitor sees the English words with a note."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Campaign, ConsentRecord
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_german_page_shows_the_german_words_and_a_language_without_words_says_so(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, sign_in: SignIn
) -> None:
    live_server.app.config["JOIN_MIN_SECONDS"] = 0  # no waiting for the form's time guard
    marketer, workspace = factory.marketer("editor")
    sign_in(page, marketer.email)
    campaign = factory.campaign(
        workspace,
        status="live",
        slug="summer-coffee",
        name="Summer coffee",
        description="Bring a friend.",
        locales=["en", "de", "nl"],
    )

    page.goto(live_server(f"/admin/campaigns/{campaign.id}/edit"))
    german = page.get_by_test_id("words-de")
    expect(page.get_by_test_id("words-nl")).to_be_visible()
    german.get_by_label("Name").fill("Sommerkaffee")
    german.get_by_label("Description").fill("Bring eine Freundin mit.")
    german.get_by_label("Benefit line").fill("Ein Kaffee für euch beide")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash, [role=status]").first).to_contain_text("Changes saved")

    page.goto(live_server("/c/summer-coffee?lang=de"))
    expect(page.locator("h1")).to_have_text("Sommerkaffee")
    expect(page.get_by_test_id("benefit")).to_have_text("Ein Kaffee für euch beide")
    expect(page.get_by_test_id("content-fallback")).to_have_count(0)
    consent = page.locator("label.check", has=page.locator("#consent"))
    expect(consent).to_contain_text("Sommerkaffee")
    expect(consent).not_to_contain_text("Summer coffee")
    page.locator("#email").fill("lena@example.com")
    page.locator("#consent").check()
    page.get_by_role("button", name="Mitmachen").click()
    page.wait_for_url(live_server("/c/summer-coffee/joined"))

    page.goto(live_server("/c/summer-coffee?lang=nl"))
    expect(page.get_by_test_id("content-fallback")).to_have_text("Getoond in het Engels")
    expect(page.locator("h1")).to_have_text("Summer coffee")
    expect(page.get_by_test_id("campaign-content")).to_have_attribute("lang", "en")
    expect(consent).to_contain_text("I agree that")

    db.session.rollback()  # see the server thread's commits
    row = db.session.scalars(select(ConsentRecord)).one()
    assert row.version == "default-1-de" and "Sommerkaffee" in row.text
    stored = db.session.get(Campaign, campaign.id)
    assert stored is not None and stored.settings["translations"]["de"]["name"] == "Sommerkaffee"
    assert_clean(page_errors)


def test_an_editor_words_a_campaigns_german_confirmation_mail_from_its_page(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, sign_in: SignIn
) -> None:
    marketer, workspace = factory.marketer("editor")
    sign_in(page, marketer.email)
    campaign = factory.campaign(
        workspace,
        name="Summer coffee",
        locales=["en", "de"],
        settings={"translations": {"de": {"name": "Sommerkaffee"}}},
    )
    page.goto(live_server(f"/admin/campaigns/{campaign.id}"))
    german = page.get_by_test_id("language-de")
    expect(german).to_contain_text("Sommerkaffee")
    german.get_by_role("link", name="Built-in text").click()
    expect(page.get_by_test_id("campaign-default")).to_be_visible()
    page.get_by_label("Subject").fill("Bitte bestätigen: {{ campaign.name }}")
    page.get_by_label("Text", exact=True).fill("Hallo! {{ confirm_url }}")
    page.get_by_label("HTML (optional)").fill("")
    page.get_by_role("button", name="Save message").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Bitte bestätigen: Sommerkaffee")
    page.goto(live_server(f"/admin/campaigns/{campaign.id}"))
    expect(page.get_by_test_id("language-de")).to_contain_text("This campaign's text")
    expect(page.get_by_test_id("language-en")).to_contain_text("Built-in text")
    assert_clean(page_errors)
