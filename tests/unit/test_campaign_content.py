"""A campaign's words per language: which ones a page shows, and the consent versions."""

from __future__ import annotations

import pytest

from referral.domain.campaign_content import changed_settings, content_for, default_locale
from referral.domain.errors import ValidationFailed

LOCALES = ["en", "de", "nl"]
GERMAN = {"name": "Freunde werben", "description": "Teile deinen Link.", "benefit": "500 Punkte"}


def test_the_default_language_is_the_chosen_one_else_the_first_offered() -> None:
    assert default_locale(["de", "en"], {}) == "de"
    assert default_locale(["en", "nl"], {"default_locale": "nl"}) == "nl"
    assert default_locale(["en"], {"default_locale": "nl"}) == "en"  # no longer offered
    assert default_locale([], {}) == "en"


def test_a_language_with_a_translation_shows_all_of_its_words() -> None:
    settings = changed_settings({}, {"translations": {"de": GERMAN}}, LOCALES)
    shown = content_for("Invite friends", "Share.", LOCALES, settings, "de")
    assert (shown.locale, shown.name, shown.description, shown.benefit) == (
        "de",
        "Freunde werben",
        "Teile deinen Link.",
        "500 Punkte",
    )
    assert not shown.fallback
    assert shown.consent_version == "default-1-de"  # the standard sentence, in German


def test_a_language_without_words_falls_back_whole_to_the_default_language() -> None:
    settings = changed_settings(
        {}, {"benefit": "500 points", "translations": {"de": GERMAN}}, LOCALES
    )
    shown = content_for("Invite friends", "Share.", LOCALES, settings, "nl")
    assert shown.fallback and shown.locale == "en" and shown.requested == "nl"
    assert (shown.name, shown.description, shown.benefit) == (
        "Invite friends",
        "Share.",
        "500 points",
    )


def test_a_translation_of_a_language_the_campaign_no_longer_offers_is_not_shown() -> None:
    settings = changed_settings({}, {"translations": {"de": GERMAN}}, LOCALES)
    assert content_for("Invite friends", "", ["en"], settings, "de").fallback


def test_each_change_of_a_consent_sentence_is_the_next_version_of_its_language() -> None:
    first = changed_settings(
        {}, {"translations": {"de": {**GERMAN, "consent_text": "Ja, bitte."}}}, LOCALES
    )
    assert content_for("X", "", LOCALES, first, "de").consent_version == "de-1"
    same = changed_settings(
        first, {"translations": {"de": {**GERMAN, "consent_text": "Ja, bitte."}}}, LOCALES
    )
    assert content_for("X", "", LOCALES, same, "de").consent_version == "de-1"
    second = changed_settings(
        same, {"translations": {"de": {**GERMAN, "consent_text": "Ja, gern."}}}, LOCALES
    )
    assert content_for("X", "", LOCALES, second, "de").consent_version == "de-2"
    english = changed_settings(second, {"consent_text": "Yes, please."}, LOCALES)
    assert content_for("X", "", LOCALES, english, "en").consent_version == "en-1"
    assert content_for("X", "", LOCALES, english, "de").consent_version == "de-2"


def test_a_version_set_before_stays_until_the_sentence_changes() -> None:
    old = {"consent_text": "Yes, mail me.", "consent_version": "2026-03"}
    kept = changed_settings(old, {"consent_text": "Yes, mail me."}, ["en"])
    assert content_for("X", "", ["en"], kept, "en").consent_version == "2026-03"
    changed = changed_settings(old, {"consent_text": "Yes, mail me often."}, ["en"])
    assert content_for("X", "", ["en"], changed, "en").consent_version == "en-1"


def test_null_removes_a_translation_and_languages_not_given_stay() -> None:
    both = changed_settings(
        {}, {"translations": {"de": GERMAN, "nl": {"name": "Vrienden"}}}, LOCALES
    )
    left = changed_settings(both, {"translations": {"de": None}}, LOCALES)
    assert set(left["translations"]) == {"nl"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"translations": {"zh_Hans": {"name": "朋友"}}}, "translations.zh_Hans"),
        ({"translations": {"en": {"name": "Again"}}}, "translations.en"),
        ({"translations": {"de": {"name": ""}}}, "translations.de.name"),
        ({"translations": {"de": {"name": "x", "benefit": "b" * 301}}}, "translations.de.benefit"),
        ({"default_locale": "zh_Hant"}, "default_locale"),
        ({"consent_text": "c" * 2001}, "consent_text"),
    ],
)
def test_words_that_break_a_rule_are_refused_naming_the_field(
    data: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        changed_settings({}, data, LOCALES)
    assert field in refused.value.errors


def test_a_language_with_a_translation_cannot_become_the_default() -> None:
    settings = changed_settings({}, {"translations": {"de": GERMAN}}, LOCALES)
    with pytest.raises(ValidationFailed) as refused:
        changed_settings(settings, {"default_locale": "de"}, LOCALES)
    assert "default_locale" in refused.value.errors
