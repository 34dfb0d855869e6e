"""The admin's notices in the marketer's language: refused transitions and reward rules."""

from __future__ import annotations

import html
from typing import Any

from referral.services.rules import add_rule
from tests.conftest import Browser
from tests.factories import LOTTERY_RULES, Factory


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_refused_publish_names_the_missing_rules_in_german(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    rules = {k: v for k, v in LOTTERY_RULES.items() if k not in ("sponsor", "free_entry_method")}
    campaign = factory.campaign(workspace, kind="lottery", settings={"rules": rules})
    browser.client.set_cookie("lang", "de")
    response = browser.post(f"/admin/campaigns/{campaign.id}/publish")
    assert response.status_code == 422
    page = _text(response)
    assert "Ein Gewinnspiel braucht offizielle Teilnahmebedingungen" in page
    assert (
        "Es fehlt noch: Veranstalter (sponsor), kostenlose Teilnahmemöglichkeit (free_entry_method)"
    ) in page
    assert "A prize draw needs" not in page


def test_closing_a_draft_is_refused_in_traditional_chinese(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace)
    browser.client.set_cookie("lang", "zh_Hant")
    browser.post(f"/admin/campaigns/{campaign.id}/close")
    page = _text(browser.client.get(f"/admin/campaigns/{campaign.id}"))
    assert "只有進行中的活動可以結束" in page
    assert "Only a live campaign" not in page


def test_the_campaign_page_lists_reward_rules_in_words(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, reward_depth=2)
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 5})
    add_rule(
        campaign,
        {"event": "purchase", "level": 2, "reward": "cash", "amount": 2500, "currency": "EUR"},
    )
    add_rule(campaign, {"milestone": 3, "level": 0, "reward": "entries", "amount": 1})
    page = _text(browser.client.get(f"/admin/campaigns/{campaign.id}"))
    assert "On a referred friend confirms their sign-up: level 1 gets 5 points" in page
    assert "On a purchase: level 2 gets €25.00" in page
    assert "At 3 confirmed referrals: level 0 gets 1 draw entry" in page
    assert "signup_confirmed" not in page
