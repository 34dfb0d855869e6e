"""Translations in pages and answers: locale negotiation and translated error messages (the
catalogues themselves: tests/unit/test_translations.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import Browser
from tests.factories import Factory

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "referral" / "translations"
LOCALES = ("en", "de", "nl", "zh_Hans", "zh_Hant")
SIGN_IN = {
    "en": "Sign in",
    "de": "Anmelden",
    "nl": "Inloggen",
    "zh_Hans": "登录",
    "zh_Hant": "登入",
}


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _po(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues() -> None:
    """Compile stale or missing .mo files (as `make translations` does) so that running
    pytest directly on a fresh clone tests the real catalogues."""
    for locale in LOCALES:
        po, mo = _po(locale), _po(locale).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            partial = mo.with_suffix(f".{os.getpid()}.tmp")  # atomic for parallel workers
            with partial.open("wb") as f:
                write_mo(f, _read(po, locale))
            partial.replace(mo)


def _page(client: Any, path: str = "/login", **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang>"
    return match.group(1)


def _heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html)
    assert match, "no <h1>"
    return match.group(1)


# The catalogues themselves and the domain's message marking: tests/unit/test_translations.py.


# --- locale negotiation --------------------------------------------------------------------


def test_lang_in_the_query_switches_the_language_and_is_remembered(client: Any) -> None:
    response = client.get("/login?lang=de")
    html = response.get_data(as_text=True)
    assert _html_lang(html) == "de"
    assert _heading(html) == "Anmelden"
    assert "lang=de" in response.headers.get("Set-Cookie", "")
    again = _page(client, "/login", **{"Accept-Language": "en"})
    assert _heading(again) == "Anmelden"


# Every tag and the order of ?lang=, the cookie and Accept-Language:
# tests/unit/test_locale_negotiation.py. Here: the page comes in the chosen language.
@pytest.mark.parametrize(
    ("accept", "html_lang", "heading"),
    [
        ("zh-TW", "zh-Hant", "登入"),
        ("fr", "en", "Sign in"),
        ("fr-FR, de;q=0.5", "de", "Anmelden"),
    ],
)
def test_the_browsers_languages_choose_the_locale(
    client: Any, accept: str, html_lang: str, heading: str
) -> None:
    html = _page(client, "/login", **{"Accept-Language": accept})
    assert _html_lang(html) == html_lang
    assert _heading(html) == heading


def test_traditional_chinese_pages_use_taiwanese_wording(client: Any) -> None:
    html = _page(client, "/login", **{"Accept-Language": "zh-TW"})
    assert "供本伺服器上各工作區的行銷人員使用。" in html
    assert "电子邮箱" not in html


def test_an_unknown_lang_in_the_query_is_ignored(client: Any) -> None:
    response = client.get("/login?lang=xx", headers={"Accept-Language": "nl"})
    assert _heading(response.get_data(as_text=True)) == "Inloggen"
    assert "lang=" not in response.headers.get("Set-Cookie", "")


def test_the_language_switch_sets_the_cookie_and_goes_back_to_the_page(client: Any) -> None:
    response = client.get("/lang/zh_Hant?next=/login%3Fnext%3D/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/"
    assert "lang=zh_Hant" in response.headers["Set-Cookie"]
    assert _html_lang(_page(client)) == "zh-Hant"


# Every target off this site: tests/unit/test_locale_negotiation.py.
@pytest.mark.parametrize("target", ["//evil.example/"])
def test_the_language_switch_never_redirects_off_site(client: Any, target: str) -> None:
    response = client.get("/lang/de", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_refuses_an_unknown_language(client: Any) -> None:
    assert client.get("/lang/xx?next=/").status_code == 404


def test_the_login_page_is_translated_in_every_locale(
    client: Any, subtests: pytest.Subtests
) -> None:
    for locale in LOCALES:
        with subtests.test(locale=locale):
            html = _page(client, f"/login?lang={locale}")
            assert _html_lang(html) == locale.replace("_", "-")
            assert _heading(html) == SIGN_IN[locale]
            assert f"<title>{SIGN_IN[locale]} · referral</title>" in html


# --- translated errors ---------------------------------------------------------------------

CAMPAIGN_FORM = {
    "name": "Sommeraktion",
    "kind": "referral",
    "slug": "",
    "description": "",
    "reward_depth": "1",
    "attribution_days": "30",
    "hold_days": "0",
    "locales": "de",
}


def _post_campaign_in_german(browser: Browser, **changes: str) -> str:
    browser.client.set_cookie("lang", "de")
    response = browser.post(
        "/admin/campaigns/new", {**CAMPAIGN_FORM, **changes}, form_page="/admin/campaigns/new"
    )
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_a_reward_depth_above_the_ceiling_is_refused_in_german(
    login_as: Any, browser: Browser
) -> None:
    login_as("editor")
    html = _post_campaign_in_german(browser, reward_depth="3")
    assert "Neue Kampagne" in html
    refusals = (  # the domain's rule, or the form's range check should it catch it first
        "Die Belohnungstiefe 3 liegt über der Obergrenze dieses Servers von 2 Ebenen",
        "Zahl muss zwischen 0 und 2 liegen.",
    )
    assert any(text in html for text in refusals)
    assert "above this server" not in html
    assert "Number must be between" not in html


def test_the_domains_depth_rule_is_explained_in_german_on_the_form(
    login_as: Any, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form lets depth 2 through; the domain (with a lower ceiling) refuses it."""
    monkeypatch.setattr("referral.services.campaigns.ceiling", lambda: 1)
    login_as("editor")
    html = _post_campaign_in_german(browser, reward_depth="2")
    assert (
        "Die Belohnungstiefe 2 liegt über der Obergrenze dieses Servers von 1 Ebenen "
        "(REFERRAL_MAX_REWARD_DEPTH); tiefere Belohnungen würden das Anwerben bezahlen."
    ) in html
    assert "above this server" not in html


@pytest.mark.parametrize(
    ("changes", "german"),
    [
        ({"slug": "Sommer Aktion!"}, "Verwenden Sie 1 bis 64 Kleinbuchstaben, Ziffern und"),
        (
            {"starts_at": "2026-12-01T09:00", "ends_at": "2026-11-01T09:00"},
            "Das Ende muss nach dem Beginn liegen.",
        ),
    ],
)
def test_domain_validation_errors_on_the_campaign_form_are_shown_in_german(
    login_as: Any, browser: Browser, changes: dict[str, str], german: str
) -> None:
    login_as("owner")
    assert german in _post_campaign_in_german(browser, **changes)


@pytest.mark.parametrize("path", ["/no-such-page", "/c/no-such-campaign"])
def test_error_pages_are_in_the_visitors_language(client: Any, path: str) -> None:
    response = client.get(path, headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert _html_lang(html) == "zh-Hant"
    assert _heading(html) in ("找不到", "找不到網頁")
    assert "回到首頁" in html
    assert "Not found" not in html and "Not Found" not in html


def test_api_problem_details_are_in_the_callers_language(client: Any, factory: Factory) -> None:
    workspace = factory.workspace()
    _key, secret = factory.api_key(workspace)
    response = client.post(
        "/api/v1/campaigns",
        json={
            "name": "Sommeraktion",
            "kind": "referral",
            "starts_at": "2026-12-01T09:00:00+00:00",
            "ends_at": "2026-11-01T09:00:00+00:00",
        },
        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "de"},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["detail"] == "Das Ende muss nach dem Beginn liegen."
    assert body["errors"] == {"ends_at": ["Das Ende muss nach dem Beginn liegen."]}
