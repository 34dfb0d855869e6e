"""WTForms' own messages ("This field is required.") in the page's language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Browser

CAMPAIGN_FORM = {
    "name": "Campaign",
    "kind": "referral",
    "reward_depth": "9",
    "attribution_days": "",
    "hold_days": "0",
    "locales": "en",
}


def _post_campaign(browser: Browser, locale: str) -> str:
    browser.client.set_cookie("lang", locale)
    response = browser.post("/admin/campaigns/new", CAMPAIGN_FORM, "/admin/campaigns/new")
    assert response.status_code == 422
    return response.get_data(as_text=True)


# The messages in every locale: tests/unit/test_wtforms_catalogues.py. Here: the page's
# language chooses them.
@pytest.mark.parametrize(
    ("locale", "required", "out_of_range"),
    [("de", "Dieses Feld wird benötigt.", "Zahl muss zwischen 0 und 3 liegen.")],
)
def test_the_forms_own_messages_are_in_the_pages_language(
    login_as: Any, browser: Browser, locale: str, required: str, out_of_range: str
) -> None:
    login_as("editor")
    html = _post_campaign(browser, locale)
    assert required in html
    assert out_of_range in html


def test_a_traditional_chinese_page_gets_no_simplified_form_messages(
    login_as: Any, browser: Browser
) -> None:
    """gettext would fall back from zh_Hant to WTForms' zh (Simplified) catalogue."""
    login_as("editor")
    html = _post_campaign(browser, "zh_Hant")
    assert "该字段是必填字段。" not in html
    assert "This field is required." not in html


def test_the_login_form_says_what_is_missing_in_traditional_chinese(browser: Browser) -> None:
    browser.client.set_cookie("lang", "zh_Hant")
    token = browser.token("/login")
    response = browser.client.post("/login", data={"csrf_token": token, "email": ""})
    assert "此欄位是必需的。" in response.get_data(as_text=True)
