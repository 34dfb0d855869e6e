"""The admin pages render cleanly on a phone and on a desktop.

Each page must load without console errors or CSP violations and must not scroll
sideways (wide tables scroll inside their own ``.table-wrap``). Set
``E2E_SCREENSHOT_DIR=/tmp/shots`` to also save a full-page screenshot of every page, for
looking at the stylesheet; screenshots never go into the repository.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.extensions import db
from referral.models import RewardRule
from referral.services.api_keys import revoke_api_key
from tests.e2e.conftest import VIEWPORTS, LiveServer, SignIn, assert_clean, page_width
from tests.factories import Factory

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("E2E_SCREENSHOT_DIR", "")


def _seed(factory: Factory) -> tuple[str, int]:
    """A workspace that looks used: campaigns of each status, participants, keys."""
    marketer, workspace = factory.marketer(email="maria.schneider@example-brand.com")
    workspace.name = "Fahrradladen Müller"
    featured = factory.campaign(
        workspace,
        name="Refer a friend: summer cycling",
        slug="summer-cycling",
        status="live",
        reward_depth=2,
        locales=["en", "de", "nl"],
        description="Share your link; when a friend buys a bike you both get a service voucher.",
    )
    rules = [
        {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 50},
        {"event": "purchase", "level": 1, "reward": "coupon", "amount": 1},
        {"milestone": 5, "level": 0, "reward": "cash", "amount": 2500},
    ]
    db.session.add_all([RewardRule(campaign_id=featured.id, **rule) for rule in rules])
    db.session.commit()
    first = factory.participation(featured, status="confirmed", confirmed_at=datetime.now(UTC))
    second = factory.participation(featured, referrer=first)
    factory.participation(featured, referrer=second, status="flagged")
    factory.campaign(workspace, name="Win a cargo bike", kind="lottery", slug="win-a-cargo-bike")
    factory.campaign(
        workspace,
        name="A campaign with a rather long name to see how the table wraps it",
        kind="survey",
        status="closed",
    )
    factory.campaign(workspace, name="30-day e-bike trial", kind="trial", status="live")
    factory.api_key(workspace)
    old, _secret = factory.api_key(workspace)
    old.name = "Old shop plugin"
    revoke_api_key(old)
    return marketer.email, featured.id


def _check(page: Any, errors: list[str], name: str, viewport: str) -> None:
    page.wait_for_load_state("load")
    width = page_width(page)
    assert width <= VIEWPORTS[viewport]["width"], f"{name} scrolls sideways ({width}px)"
    assert_clean([e for e in errors if "status of 422" not in e])
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{viewport}.png"), full_page=True)


@pytest.mark.parametrize("page", ["phone", "desktop"], indirect=True)
def test_admin_pages_render_cleanly(
    request: pytest.FixtureRequest,
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    viewport = request.node.callspec.params["page"]
    email, campaign_id = _seed(factory)

    page.goto(live_server("/"))
    _check(page, page_errors, "home", viewport)
    page.goto(live_server("/login"))
    _check(page, page_errors, "login", viewport)
    page.locator("#email").fill(email)
    page.locator("#password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _check(page, page_errors, "login-error", viewport)

    sign_in(page, email)
    expect(page.locator("table tbody tr")).to_have_count(4)
    _check(page, page_errors, "campaigns", viewport)

    page.goto(live_server("/admin/campaigns/new"))
    _check(page, page_errors, "campaign-form", viewport)
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    _check(page, page_errors, "campaign-form-errors", viewport)

    page.goto(live_server(f"/admin/campaigns/{campaign_id}"))
    expect(page.locator(".stat-value").first).to_have_text("3")
    _check(page, page_errors, "campaign", viewport)

    page.goto(live_server("/admin/api-keys"))
    _check(page, page_errors, "api-keys", viewport)
    page.get_by_label("Key name").fill("Shop integration")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-api-key")).to_be_visible()
    _check(page, page_errors, "api-keys-new", viewport)

    page.goto(live_server("/c/summer-cycling"))
    _check(page, page_errors, "landing", viewport)


def test_keyboard_focus_is_visible_on_the_login_form(
    live_server: LiveServer, page: Any, page_errors: list[str]
) -> None:
    page.goto(live_server("/login"))
    button = page.get_by_role("button", name="Sign in")
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = button.evaluate("el => getComputedStyle(el).outlineStyle")
    shadow = button.evaluate("el => getComputedStyle(el).boxShadow")
    assert outline != "none" or shadow != "none", "the focused button shows no focus ring"
    assert_clean(page_errors)
