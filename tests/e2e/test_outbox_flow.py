"""Trying the service out without a mail server: someone joins, the marketer finds the
confirmation mail on the outbox page, follows its link, and the person is confirmed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Participation
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_confirmation_link_is_found_in_the_outbox_and_confirms(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, sign_in: SignIn
) -> None:
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    marketer, workspace = factory.marketer(role="editor")
    factory.campaign(workspace, status="live", slug="beans", name="Free beans")

    # Someone joins on the campaign page.
    page.goto(live_server("/c/beans"))
    page.get_by_label("Your e-mail address").fill("grace@example.com")
    page.locator("#consent").check()
    page.wait_for_timeout(2100)  # the form refuses what is sent faster than a person types
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(live_server("/c/beans/joined"))

    # The marketer opens the outbox: no mail server, so the hint says where the mail is.
    sign_in(page, marketer.email)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Outbox").click()
    page.wait_for_url(live_server("/admin/outbox"))
    expect(page.get_by_test_id("outbox-logged-only")).to_be_visible()
    row = page.get_by_test_id("outbox").locator("tr", has_text="grace@example.com")
    expect(row).to_contain_text("confirmation")
    row.get_by_role("link", name="Please confirm your e-mail address for Free beans").click()

    # The message: its text with the link to click, its HTML part in the sandboxed frame.
    expect(page.get_by_test_id("outbox-subject")).to_contain_text("Please confirm")
    frame = page.frame_locator("[data-testid=outbox-html]")
    expect(frame.locator("body")).to_contain_text("Free beans")
    link = page.get_by_test_id("outbox-text").locator(f"a[href^='{live_server.url}/confirm/']")
    expect(link).to_have_count(1)
    link.click()

    expect(page.locator("h1")).to_contain_text("Thank you")
    db.session.rollback()  # read what the server committed
    joined = db.session.scalar(select(Participation).order_by(Participation.id.desc()))
    assert joined is not None and joined.status == "confirmed"
    assert_clean(page_errors)
