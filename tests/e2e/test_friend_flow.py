"""A friend's way in, on a phone: an advocate's link, the join form, the confirmation e-mail,
their own QR code, and the advocate seeing them counted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Click, Participation
from referral.services.advocates import advocate_token
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.e2e.conftest import LiveServer, assert_clean, confirmation_path
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_friend_joins_through_an_advocates_link_and_is_counted_on_the_advocates_page(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    campaign = factory.campaign(status="live", slug="bike-friends", name="Bike friends")
    request = JoinRequest(email="ada@example.com", name="Ada Lovelace", confirmed=True)
    advocate = join_campaign(campaign, request, Visitor()).participation
    code, advocate_page = advocate.referral_code, f"/me/{advocate_token(advocate)}"

    # The friend opens the shared link and lands on the campaign page.
    page.goto(live_server(f"/r/{code}?ch=whatsapp"))
    page.wait_for_url(live_server("/c/bike-friends"))
    expect(page.locator("h1")).to_have_text("Bike friends")
    honeypot = page.locator("#website").bounding_box()
    assert honeypot is not None and honeypot["x"] + honeypot["width"] <= 0  # off-screen
    consent = page.locator("#consent")
    expect(consent).not_to_be_checked()

    page.get_by_label("Your e-mail address").fill("grace@example.com")
    page.get_by_label("Your first name (optional)").fill("Grace")
    page.wait_for_timeout(2100)  # the form refuses what is sent faster than a person types
    page.get_by_role("button", name="Join").click()

    # Without the consent box ticked, the form comes back with the message at the box.
    expect(page.locator("#consent-error")).to_contain_text("Please tick the box")
    page.locator("#consent").check()
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(live_server("/c/bike-friends/joined"))
    expect(page.locator("h1")).to_have_text("Check your inbox")

    # The confirmation link from the e-mail.
    page.goto(live_server(confirmation_path("grace@example.com")))
    expect(page.locator("h1")).to_contain_text("Thank you")
    qr = page.locator("figure.qr-figure img.qr")
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert qr.evaluate("img => img.naturalWidth") > 0
    own_link = page.locator("#share-link").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/r/[A-Za-z0-9]+", own_link)
    expect(page.locator(".share-whatsapp")).to_have_attribute("href", re.compile(r"ch%3Dwhatsapp"))
    expect(page.locator(".disclosure")).to_contain_text("I get a reward if you join")

    # The WeChat button shows a QR code to scan.
    page.locator(".wechat summary").click()
    wechat_qr = page.locator(".wechat img")
    expect(wechat_qr).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=wechat_qr.element_handle()
    )

    # The friend's own page opens from the thank-you page.
    page.get_by_role("link", name="Open my page").click()
    expect(page.locator("h1")).to_have_text("Hello Grace!")

    # The advocate's page lists the friend as counted.
    page.goto(live_server(advocate_page))
    friend = page.locator("li.friend", has_text="Grace")
    expect(friend).to_have_count(1)
    expect(friend.locator(".reason")).to_have_text("Counted")
    expect(page.locator(".stat-confirmed")).to_have_text("1")
    expect(page.locator(".stat-clicks")).to_have_text("1")

    db.session.rollback()
    joined = db.session.scalars(
        select(Participation).where(Participation.referrer_id == advocate.id)
    ).one()
    assert (joined.status, joined.channel) == ("confirmed", "whatsapp")
    assert db.session.scalars(select(Click)).one().channel == "whatsapp"
    # The form without consent was answered 422 on purpose; Chromium logs that as an error.
    assert_clean([e for e in page_errors if "status of 422" not in e])


def test_the_copy_button_copies_the_invitation_without_inline_script(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    campaign = factory.campaign(status="live", slug="copy-me", name="Copy me")
    request = JoinRequest(email="ada@example.com", name="Ada", confirmed=True)
    advocate = join_campaign(campaign, request, Visitor()).participation
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(live_server(f"/me/{advocate_token(advocate)}"))
    page.get_by_role("button", name="Copy invitation").click()
    expect(page.locator(".copy-status")).to_have_text("Copied!")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"/r/{advocate.referral_code}?ch=copy" in copied
    assert "I get a reward if you join" in copied
    assert_clean(page_errors)
