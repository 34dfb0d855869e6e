"""The referral engine's admin pages in a real browser, on a phone and on a desktop: reward
rules, the review queue, a customer's history and the participants list.

The data is built through the services, as sign-ups and confirmations would build it; every
check after that goes through the pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.extensions import db
from referral.models import Campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("page", ["phone", "desktop"], indirect=True),
]

SIGNUP_EVENT = "a referred friend confirms their sign-up"
PYRAMID = (
    "Levels 2 and deeper may only pay for purchases or converted trials, never for sign-ups: "
    "rewarding recruitment is what makes a pyramid scheme."
)
CONSENT = "I agree that Brand may e-mail me about the Spring referral campaign."


@dataclass
class Shop:
    """A signed-in marketer's live campaign, as plain values (no lazy loads later)."""

    campaign_id: int
    campaign: Campaign


@pytest.fixture
def shop(factory: Factory, page: Any, sign_in: SignIn) -> Shop:
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(
        workspace, name="Spring referral", status="live", reward_depth=2, locales=["en"]
    )
    sign_in(page, marketer.email)
    # End the read this thread began before the login wrote: writing from a stale SQLite
    # snapshot would fail with "database is locked".
    db.session.rollback()
    return Shop(campaign.id, campaign)


def join(campaign: Campaign, email: str, code: str | None = None, **kw: Any) -> Any:
    """A sign-up as the landing page makes it; returns the participation."""
    request = JoinRequest(email=email, referral_code=code, **kw)
    return join_campaign(campaign, request, Visitor(page="/c/spring")).participation


def test_a_marketer_adds_a_reward_rule_and_is_told_why_a_level_2_sign_up_rule_is_refused(
    live_server: LiveServer, page: Any, page_errors: list[str], shop: Shop
) -> None:
    rules_url = live_server(f"/admin/campaigns/{shop.campaign_id}/rules")
    page.goto(rules_url)
    expect(page.locator("h1")).to_have_text("Reward rules")
    expect(page.get_by_text("No reward rules yet")).to_be_visible()

    form = page.locator("#add-rule")
    form.get_by_label("When").select_option(label=SIGNUP_EVENT)
    form.get_by_label("Who gets it").select_option(label="their referrer")
    form.get_by_label("Reward", exact=True).select_option(label="Points")
    form.get_by_label("Amount").fill("100")
    form.get_by_role("button", name="Add rule").click()

    # Back on the same address: the flash says the new page is there.
    expect(page.locator(".flash-success")).to_have_text("Reward rule added.")
    rows = page.get_by_test_id("rules").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"On {SIGNUP_EVENT}")
    expect(rows.first).to_contain_text("Level 1: their referrer")
    expect(rows.first).to_contain_text("100 points")
    expect(rows.first.locator(".badge")).to_have_text("Active")

    # Paying two levels up for a sign-up would reward recruiting: the form says so.
    form = page.locator("#add-rule")
    form.get_by_label("When").select_option(label=SIGNUP_EVENT)
    form.get_by_label("Who gets it").select_option(label="two levels up")
    form.get_by_label("Reward", exact=True).select_option(label="Points")
    form.get_by_label("Amount").fill("50")
    form.get_by_role("button", name="Add rule").click()

    level = page.locator("#add-rule .field", has=page.get_by_label("Who gets it"))
    expect(level.locator(".error")).to_have_text(PYRAMID)
    expect(level.get_by_label("Who gets it")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("rules").locator("tbody tr")).to_have_count(1)

    # The campaign page lists the rule in words too, not as an event key.
    page.goto(live_server(f"/admin/campaigns/{shop.campaign_id}"))
    listed = page.get_by_test_id("campaign-rules")
    expect(listed).to_have_text(f"On {SIGNUP_EVENT}: level 1 gets 100 points")
    expect(listed).not_to_contain_text("signup_confirmed")

    # The refused rule was answered 422 on purpose; Chromium logs that as an error.
    expected = f"{rules_url}: Failed to load resource: the server responded with a status of 422"
    assert_clean([e for e in page_errors if not e.startswith(expected)])


def test_a_flagged_sign_up_is_approved_in_bulk_and_moves_to_the_decisions(
    live_server: LiveServer, page: Any, page_errors: list[str], shop: Shop
) -> None:
    add_rule(
        shop.campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100}
    )
    advocate = join(shop.campaign, "anna@example.com", confirmed=True)
    flagged = join(shop.campaign, "ben@mailinator.com", advocate.referral_code, confirmed=True)
    assert flagged.status == "flagged"

    page.goto(live_server("/admin/review"))
    expect(page.locator("h1")).to_have_text("Review")
    queue = page.get_by_test_id("review-queue")
    row = queue.locator("tbody tr", has_text="ben@mailinator.com")
    expect(queue.locator("tbody tr")).to_have_count(1)
    expect(row).to_contain_text("Spring referral")
    expect(row.locator(".reasons li")).to_have_text(["Throwaway e-mail address"])
    expect(row).to_contain_text("anna@example.com")  # referred by
    expect(row).not_to_contain_text("disposable_email")
    expect(page.get_by_text("No decisions yet.")).to_be_visible()

    page.get_by_label("Select ben@mailinator.com").check()
    page.get_by_label("Note (optional)").fill("A real customer, checked by phone")
    page.get_by_role("button", name="Approve selected").click()

    expect(page.locator(".flash-success")).to_have_text("1 participant approved.")
    expect(page.get_by_test_id("review-queue")).to_have_count(0)
    expect(page.get_by_text("Nothing to review.")).to_be_visible()
    decision = page.get_by_test_id("decisions").locator("tbody tr")
    expect(decision).to_have_count(1)
    expect(decision).to_contain_text("ben@mailinator.com")
    expect(decision).to_contain_text("Spring referral")
    expect(decision.locator(".badge")).to_have_text("Approved")
    expect(decision).to_contain_text("A real customer, checked by phone")

    assert_clean(page_errors)


def test_the_customer_page_shows_the_consent_and_what_happened(
    live_server: LiveServer, page: Any, page_errors: list[str], shop: Shop
) -> None:
    add_rule(
        shop.campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 25}
    )
    advocate = join(shop.campaign, "dora@example.com", confirmed=True)
    person = join(
        shop.campaign,
        "carla@example.com",
        advocate.referral_code,
        consent_text=CONSENT,
        consent_version="2",
        confirmed=True,
    )
    customer_id = person.customer_id

    page.goto(live_server("/admin/customers"))
    page.get_by_role("link", name="carla@example.com").click()
    page.wait_for_url(live_server(f"/admin/customers/{customer_id}"))
    expect(page.locator("h1")).to_have_text("carla@example.com")

    consent = page.get_by_test_id("consents").locator("article.consent")
    expect(consent).to_have_count(1)
    expect(consent.locator(".consent-text")).to_have_text(CONSENT)
    expect(consent).to_contain_text("version 2")
    expect(consent).to_contain_text("Spring referral")

    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator("li.event-entered")).to_contain_text("Joined the campaign")
    expect(timeline.locator("li.event-signup_confirmed")).to_contain_text(
        "Confirmed their e-mail address"
    )
    reward = timeline.locator("li.event-reward_granted")
    expect(reward).to_contain_text("Received a reward")
    expect(reward).to_contain_text("25 points")
    expect(timeline).not_to_contain_text("signup_confirmed")

    ledger = page.get_by_test_id("ledger").locator("tbody tr")
    expect(ledger).to_have_count(1)
    expect(ledger).to_contain_text("25 points")
    expect(ledger.locator(".badge")).to_have_text("Approved")

    assert_clean(page_errors)


def test_the_participants_page_filters_by_status(
    live_server: LiveServer, page: Any, page_errors: list[str], shop: Shop
) -> None:
    advocate = join(shop.campaign, "dora@example.com", confirmed=True)
    join(shop.campaign, "emil@example.com", advocate.referral_code, confirmed=True)
    join(shop.campaign, "finn@example.com")  # never confirmed: pending
    join(shop.campaign, "gus@mailinator.com", advocate.referral_code)  # flagged

    participants_url = live_server(f"/admin/campaigns/{shop.campaign_id}/participants")
    page.goto(participants_url)
    expect(page.locator("h1")).to_have_text("Participants")
    rows = page.get_by_test_id("participants").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(page.get_by_text("4 participants")).to_be_visible()

    cases = [
        ("Confirmed", "confirmed", ["dora@example.com", "emil@example.com"]),
        ("Pending", "pending", ["finn@example.com"]),
        ("Flagged", "flagged", ["gus@mailinator.com"]),
    ]
    for label, status, emails in cases:
        page.get_by_label("Status").select_option(label=label)
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(re.compile(rf"[?&]status={status}(&|$)"))
        expect(rows).to_have_count(len(emails))
        shown = rows.locator("td:first-child a").all_inner_texts()
        assert sorted(shown) == emails, (status, shown)
        expect(rows.locator(".badge")).to_contain_text([label] * len(emails))
        expect(page.get_by_label("Status")).to_have_value(status)

    page.get_by_label("Status").select_option(label="Rejected")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"[?&]status=rejected(&|$)"))
    expect(page.get_by_test_id("participants")).to_have_count(0)
    expect(page.get_by_text("No participant matches.")).to_be_visible()

    assert_clean(page_errors)
