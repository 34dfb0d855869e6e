"""A campaign's life in a real browser: a marketer duplicates a live prize draw, then closes
the original after the page that says what closing freezes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Campaign
from referral.services.campaigns import publish_campaign
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_marketer_duplicates_a_draw_then_closes_it_after_confirming(
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    marketer, workspace = factory.marketer(role="editor")
    sign_in(page, marketer.email)
    draw = publish_campaign(
        factory.campaign(workspace, kind="lottery", name="Bike draw", slug="bike-draw")
    )
    original = live_server(f"/admin/campaigns/{draw.id}")

    # Duplicate: the copy opens, a draft at its own address.
    page.goto(original)
    page.get_by_role("button", name="Duplicate").click()
    page.wait_for_url(re.compile(r"/admin/campaigns/\d+$"))
    assert page.url != original
    expect(page.locator("h1")).to_have_text("Bike draw (copy)")
    expect(page.locator(".flash-success")).to_contain_text("Bike draw (copy)")
    expect(page.locator(".page-head .badge")).to_have_text("Draft")
    expect(page.locator(".page-head .muted", has_text="/c/")).to_have_text("/c/bike-draw-copy")

    # Close the original: first the page that says what it freezes, then the button.
    page.goto(original)
    page.get_by_test_id("close-link").click()
    page.wait_for_url(live_server(f"/admin/campaigns/{draw.id}/close"))
    effects = page.get_by_test_id("closing-effects")
    expect(effects).to_contain_text("The entries freeze")
    expect(effects).to_contain_text("Sign-ups held for review or not yet confirmed get no entry.")
    expect(page.locator(".page-head .badge")).to_have_count(0)
    page.get_by_test_id("close-confirmation").get_by_role("button", name="Close").click()
    page.wait_for_url(original)
    expect(page.locator(".flash-success")).to_have_text("The campaign is closed.")
    expect(page.locator(".page-head .badge")).to_have_text("Closed")

    db.session.rollback()  # see the server thread's commits
    statuses = dict(
        db.session.execute(
            select(Campaign.slug, Campaign.status).where(Campaign.workspace_id == workspace.id)
        ).all()
    )
    assert statuses == {"bike-draw": "closed", "bike-draw-copy": "draft"}
    assert_clean(page_errors)
