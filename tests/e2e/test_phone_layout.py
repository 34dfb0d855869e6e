"""On a 390 px phone: every link, button and field of the landing page, the advocate page
and the game page is a tap target of at least 44x44 CSS px, and the wheel never makes the
page wider than the phone, not even while it spins."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services import instant_win
from referral.services.advocates import advocate_token
from referral.services.campaigns import publish_campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.e2e.conftest import LiveServer, assert_clean, page_width
from tests.factories import LOTTERY_RULES, Factory

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 390
LEAST = 44

# Each visible link, button and form control with its size. A checkbox or radio button is
# tapped through the label around it (tapping the label ticks it), so that label is its
# target; what is hidden from everyone (the honeypot, aria-hidden) is not a target.
TARGETS = """
() => Array.from(document.querySelectorAll(
  "a[href], button, input:not([type=hidden]), select, textarea, summary"
)).filter((el) => !el.closest("[aria-hidden=true]") && el.getClientRects().length > 0)
  .map((el) => {
    const wrapped = el.matches("input[type=checkbox], input[type=radio]") && el.closest("label");
    const box = (wrapped || el).getBoundingClientRect();
    const name = (el.textContent || el.value || el.name || el.id || "").trim().slice(0, 40);
    return {tag: el.tagName.toLowerCase(), name: name, width: box.width, height: box.height};
  })
"""


def small_targets(page: Any) -> list[dict[str, Any]]:
    found = page.evaluate(TARGETS)
    assert found, "no tap targets measured"
    return [t for t in found if t["width"] < LEAST - 0.01 or t["height"] < LEAST - 0.01]


def lottery(factory: Factory) -> Campaign:
    return publish_campaign(
        factory.campaign(
            kind="lottery", name="Bike draw", slug="bike-draw", settings={"rules": LOTTERY_RULES}
        )
    )


def advocate_with_friends(campaign: Campaign) -> Participation:
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "entries", "amount": 1})
    ada = join_campaign(
        campaign,
        JoinRequest(email="ada@example.org", name="Ada Lovelace", confirmed=True),
        Visitor(),
    ).participation
    for n, confirmed in enumerate((True, False)):
        request = JoinRequest(
            email=f"friend{n}@example.org",
            name=f"Friend {n}",
            referral_code=ada.referral_code,
            confirmed=confirmed,
        )
        join_campaign(campaign, request, Visitor())
    return ada


def test_the_landing_page_has_only_tap_targets_of_44_px_on_a_phone(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    """The prize draw's form has the most controls: e-mail, name, birth date, region,
    consent, the rules link and the language switch."""
    lottery(factory)
    page.goto(live_server("/c/bike-draw"))
    expect(page.locator("#birth_date")).to_be_visible()
    small = small_targets(page)
    assert not small, small
    assert page_width(page) <= PHONE_WIDTH
    assert_clean(page_errors)


def test_the_advocate_page_has_only_tap_targets_of_44_px_on_a_phone(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    ada = advocate_with_friends(lottery(factory))
    with live_server.app.test_request_context():
        url = live_server(f"/me/{advocate_token(ada)}")
    page.goto(url)
    expect(page.locator(".friend")).to_have_count(2)
    small = small_targets(page)
    assert not small, small
    assert page_width(page) <= PHONE_WIDTH
    assert_clean(page_errors)


def test_the_wheel_never_widens_the_page_and_its_page_has_only_44_px_targets(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    campaign = factory.campaign(kind="instant_win", status="live", name="Spin to win")
    instant_win.add_prize(campaign, {"name": "Coffee mug", "chance": "50", "inventory": 5})
    person = factory.participation(campaign, status="confirmed", confirmed_at=utcnow())
    with live_server.app.test_request_context():
        url = live_server(f"/play/{advocate_token(person)}")
    page.goto(url)
    small = small_targets(page)
    assert not small, small
    assert page_width(page) <= PHONE_WIDTH

    page.get_by_test_id("spin").click()
    wheel = page.locator("[data-wheel]")
    expect(wheel).to_have_class("wheel spinning")
    # Mid-turn, the wheel is rotated by an angle that is no multiple of 90 degrees: its
    # square box, turned, is wider than the phone unless the page clips it.
    page.wait_for_function(
        "() => { const m = getComputedStyle(document.querySelector('[data-wheel]')).transform;"
        " if (m === 'none') return false; const [a, b] = m.slice(7, -1).split(',').map(Number);"
        " return Math.abs(a) > 0.2 && Math.abs(b) > 0.2; }"
    )
    assert page_width(page) <= PHONE_WIDTH
    expect(page.get_by_test_id("play-result")).not_to_have_text("", timeout=10_000)
    assert page_width(page) <= PHONE_WIDTH  # and where it stopped
    assert_clean(page_errors)
