"""A marketer's day in a real browser: sign in, create, publish, open the landing page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.models import Marketer
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_marketer_creates_publishes_and_opens_a_campaign(
    live_server: LiveServer, page: Any, page_errors: list[str], owner: Marketer
) -> None:
    expect(page.locator("h1")).to_have_text("Campaigns")

    page.get_by_role("link", name="New campaign").click()
    page.wait_for_url(live_server("/admin/campaigns/new"))
    expect(page.locator("h1")).to_have_text("New campaign")
    page.get_by_label("Name", exact=True).fill("Summer giveaway")
    page.get_by_label("Kind").select_option("trial")
    page.get_by_label("Reward depth").fill("0")
    page.get_by_role("button", name="Create campaign").click()

    # The campaign page: a draft, with what was entered.
    page.wait_for_url(re.compile(r"/admin/campaigns/\d+$"))
    campaign_url = page.url
    expect(page.locator("h1")).to_have_text("Summer giveaway")
    expect(page.locator(".flash-success")).to_contain_text("Summer giveaway")
    expect(page.locator(".page-head .badge")).to_have_text("Draft")
    expect(page.locator(".page-head")).to_contain_text("Free trial")
    depth_label = page.locator(".settings dt", has_text="Reward depth")
    depth = depth_label.locator("xpath=./following-sibling::dd[1]")
    expect(depth).to_contain_text("0")
    slug_text = page.locator(".page-head .muted", has_text="/c/").inner_text()
    slug = slug_text.strip().removeprefix("/c/")
    assert slug.startswith("summer-giveaway"), slug_text

    # A draft is not public yet.
    assert page.request.get(live_server(f"/c/{slug}")).status == 404

    # Listed on the campaigns page.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Campaigns").click()
    page.wait_for_url(live_server("/admin/campaigns"))
    row = page.locator("table tbody tr", has_text="Summer giveaway")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"/c/{slug}")
    expect(row.locator(".badge")).to_have_text("Draft")

    # Publish it.
    row.get_by_role("link", name="Summer giveaway").click()
    page.wait_for_url(campaign_url)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(campaign_url)
    expect(page.locator(".flash-success")).to_have_text("The campaign is live.")
    expect(page.locator(".page-head .badge")).to_have_text("Live")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)

    # Its public landing page.
    page.get_by_role("link", name=f"/c/{slug}").click()
    page.wait_for_url(live_server(f"/c/{slug}"))
    expect(page.locator("h1")).to_have_text("Summer giveaway")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    assert_clean(page_errors)


def test_a_viewer_sees_campaigns_but_no_new_campaign_button(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, sign_in: SignIn
) -> None:
    viewer, workspace = factory.marketer(role="viewer")
    campaign = factory.campaign(workspace, name="Spring referral")
    campaign_id = campaign.id
    sign_in(page, viewer.email)

    expect(page.locator("h1")).to_have_text("Campaigns")
    expect(page.locator("table tbody tr", has_text="Spring referral")).to_have_count(1)
    expect(page.get_by_role("link", name="New campaign")).to_have_count(0)
    expect(page.locator(".who")).to_contain_text("Viewer")

    page.goto(live_server(f"/admin/campaigns/{campaign_id}"))
    expect(page.locator("h1")).to_have_text("Spring referral")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)

    # The server refuses too, not only the button that is missing.
    assert page.request.get(live_server("/admin/campaigns/new")).status == 403

    assert_clean(page_errors)


def test_switching_to_deutsch_shows_german_and_is_remembered(
    live_server: LiveServer, page: Any, page_errors: list[str], owner: Marketer
) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "en")

    switch = page.get_by_role("navigation", name="Language")
    switch.get_by_role("link", name="Deutsch").click()
    page.wait_for_url(live_server("/admin/campaigns"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("Kampagnen")
    expect(page.get_by_role("link", name="Neue Kampagne")).to_be_visible()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    current = page.locator('.lang-switch a[aria-current="true"]')
    expect(current).to_have_text("Deutsch")

    # The choice sticks after signing out, and on the public pages.
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(live_server("/login"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("Anmelden")
    page.goto(live_server("/"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.locator(".lang-switch").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    assert_clean(page_errors)


def test_a_wrong_password_keeps_the_marketer_on_the_login_form(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    marketer, _workspace = factory.marketer()
    page.goto(live_server("/login"))
    page.locator("#email").fill(marketer.email)
    page.locator("#password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    assert page.url == live_server("/login")

    # A 422 for the re-rendered form is expected; anything else on the console is not.
    assert_clean([e for e in page_errors if "status of 422" not in e])
