"""A campaign's words per language, through the API and on its landing page."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Campaign, ConsentRecord, OutboxMessage
from tests.web.conftest import Api, assert_problem, join_through_form
from tests.web.test_join_flow import consent_label

GERMAN = {
    "name": "Freunde werben, Kaffee bekommen",
    "description": "Teile deinen Link.",
    "benefit": "500 Punkte für jede Freundin und jeden Freund",
}
DUTCH = {"name": "Vrienden uitnodigen", "consent_text": "Ja, mail mij over deze actie."}


def live_campaign(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"locales": ["en", "de", "nl", "zh_Hans"], "benefit": "500 points a friend", **fields}
    return api.campaign(**body)


def test_the_api_stores_and_shows_the_words_of_each_language(api: Api) -> None:
    created = api.create(
        locales=["en", "de", "nl"],
        benefit="500 points a friend",
        translations={"de": GERMAN, "nl": DUTCH},
    )
    assert created["default_locale"] == "en"
    assert created["benefit"] == "500 points a friend"
    assert created["consent_text"] == "" and created["consent_version"] == "default-1-en"
    assert created["translations"]["de"] == {
        **GERMAN,
        "consent_text": "",
        "consent_version": "default-1-de",
    }
    assert created["translations"]["nl"]["consent_version"] == "nl-1"
    assert api.ok("GET", f"/campaigns/{created['id']}")["translations"] == created["translations"]
    # the fields that were there before keep their meaning
    assert created["name"] == "Spring referral" and created["description"] == ""


def test_patch_replaces_the_languages_it_names_and_null_removes_one(api: Api) -> None:
    created = api.create(locales=["en", "de", "nl"], translations={"de": GERMAN, "nl": DUTCH})
    path = f"/campaigns/{created['id']}"
    changed = api.ok(
        "PATCH", path, json={"translations": {"nl": {**DUTCH, "consent_text": "Ja, graag."}}}
    )
    assert changed["translations"]["nl"]["consent_version"] == "nl-2"
    assert changed["translations"]["de"]["name"] == GERMAN["name"]
    removed = api.ok("PATCH", path, json={"translations": {"de": None}})
    assert set(removed["translations"]) == {"nl"}
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.content_changed")
    ).all()
    assert entry and entry[-1].data["translations"] == ["nl"]


def test_words_for_a_language_the_campaign_does_not_offer_answer_422_naming_it(
    api: Api,
) -> None:
    created = api.create(locales=["en", "de"])
    path = f"/campaigns/{created['id']}"
    for body, field in (
        ({"translations": {"nl": {"name": "Vrienden"}}}, "translations.nl"),
        ({"translations": {"en": {"name": "Friends"}}}, "translations.en"),
        ({"translations": {"de": {"description": "ohne Namen"}}}, "translations.de.name"),
        ({"translations": {"xx": {"name": "?"}}}, "translations"),
        ({"default_locale": "nl"}, "default_locale"),
    ):
        problem = assert_problem(api.patch(path, json=body), 422)
        assert any(name.startswith(field) for name in problem["errors"]), problem
    assert api.ok("GET", path)["translations"] == {}


def test_a_german_page_shows_the_german_words_and_records_a_german_consent(
    client: FlaskClient, api: Api
) -> None:
    created = live_campaign(api, translations={"de": GERMAN})
    campaign = db.session.get(Campaign, int(created["id"]))
    assert campaign is not None
    page = client.get(f"/c/{campaign.slug}?lang=de").get_data(as_text=True)
    assert GERMAN["name"] in page and GERMAN["benefit"] in page
    assert 'data-testid="content-fallback"' not in page
    shown = consent_label(page)
    assert shown.startswith("Ich ") and GERMAN["name"] in shown
    assert "Spring referral" not in shown  # one language: no English name in the sentence
    assert (
        join_through_form(client, campaign, page=f"/c/{campaign.slug}?lang=de").status_code == 303
    )
    consent = db.session.scalars(select(ConsentRecord)).one()
    assert (consent.text, consent.version) == (shown, "default-1-de")
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert GERMAN["name"] in mail.subject and "Spring referral" not in mail.body_text


def test_a_language_without_words_shows_the_default_language_and_says_so(
    client: FlaskClient, api: Api
) -> None:
    created = live_campaign(api, translations={"de": GERMAN})
    campaign = db.session.get(Campaign, int(created["id"]))
    assert campaign is not None
    page = client.get(f"/c/{campaign.slug}?lang=nl").get_data(as_text=True)
    note = re.search(r'data-testid="content-fallback">([^<]*)<', page)
    assert note and note.group(1) == "Getoond in het Engels"
    assert 'lang="en"' in page and "Spring referral" in page and "500 points a friend" in page
    shown = consent_label(page)
    assert shown.startswith("I agree that") and "Spring referral" in shown  # wholly English
    assert (
        join_through_form(client, campaign, page=f"/c/{campaign.slug}?lang=nl").status_code == 303
    )
    consent = db.session.scalars(select(ConsentRecord)).one()
    assert (consent.text, consent.version) == (shown, "default-1-en")


def test_a_languages_own_consent_sentence_is_shown_and_recorded_with_its_version(
    client: FlaskClient, api: Api
) -> None:
    created = live_campaign(api, translations={"nl": DUTCH})
    campaign = db.session.get(Campaign, int(created["id"]))
    assert campaign is not None
    page = client.get(f"/c/{campaign.slug}?lang=nl").get_data(as_text=True)
    assert consent_label(page) == DUTCH["consent_text"]
    assert (
        join_through_form(client, campaign, page=f"/c/{campaign.slug}?lang=nl").status_code == 303
    )
    consent = db.session.scalars(select(ConsentRecord)).one()
    assert (consent.text, consent.version) == (DUTCH["consent_text"], "nl-1")


def test_the_openapi_document_describes_the_words_per_language(
    openapi: dict[str, Any],
) -> None:
    schemas = openapi["components"]["schemas"]
    campaign_in = next(s for name, s in schemas.items() if name.startswith("CampaignIn"))
    assert {"default_locale", "benefit", "consent_text", "translations"} <= set(
        campaign_in["properties"]
    )
    campaign_out = next(s for name, s in schemas.items() if name.startswith("CampaignOut"))
    assert "translations" in campaign_out["required"]
