"""On a phone: start a free trial through the join form and the confirmation e-mail; play
the instant-win wheel and see the server's outcome."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import InstantWinPlay
from referral.models.base import utcnow
from referral.services import instant_win, trials
from referral.services.advocates import advocate_token
from tests.e2e.conftest import LiveServer, assert_clean, confirmation_path, page_width
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_visitor_starts_a_free_trial_on_a_phone(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    live_server.app.config["JOIN_MIN_SECONDS"] = 0
    campaign = factory.campaign(kind="trial", status="live", slug="coffee-trial", name="Coffee")
    trials.update_trial_settings(campaign, 30, 3)

    page.goto(live_server("/c/coffee-trial"))
    expect(page.get_by_test_id("trial-offer")).to_contain_text("Try it free for 30 days")
    page.get_by_label("Your e-mail address").fill("tess@example.com")
    page.locator("#consent").check()
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(live_server("/c/coffee-trial/joined"))

    page.goto(live_server(confirmation_path("tess@example.com")))
    expect(page.locator("h1")).to_contain_text("Thank you")
    page.get_by_test_id("trial-link").click()
    expect(page.get_by_test_id("trial-state")).to_contain_text(re.compile(r"(29|30) days left"))
    expect(page.get_by_test_id("trial-ends")).to_be_visible()
    width = page_width(page)
    assert width <= 390  # nothing wider than the phone
    assert_clean(page_errors)


def test_a_player_spins_the_wheel_on_a_phone_and_sees_the_outcome(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    campaign = factory.campaign(kind="instant_win", status="live", name="Spin to win")
    instant_win.add_prize(campaign, {"name": "Coffee mug", "chance": "100", "inventory": 1})
    person = factory.participation(campaign, status="confirmed", confirmed_at=utcnow())
    with live_server.app.test_request_context():
        url = live_server(f"/play/{advocate_token(person)}")

    page.goto(url)
    expect(page.get_by_test_id("odds")).to_contain_text("100 percent (1 in 1)")
    expect(page.get_by_test_id("play-result")).to_have_text("")
    page.get_by_test_id("spin").click()
    expect(page.get_by_test_id("play-result")).to_have_text(
        "You have won: Coffee mug!", timeout=10_000
    )
    expect(page.get_by_test_id("plays-left")).to_have_text("You have 0 plays left.")
    expect(page.get_by_test_id("spin")).to_be_disabled()
    db.session.rollback()
    play = db.session.scalars(select(InstantWinPlay)).one()
    assert play.prize_id is not None  # the message came from a stored winning play
    # The wheel turned so that the prize segment (the first) stopped under the pointer.
    turn = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('[data-wheel]'))"
        ".getPropertyValue('--turn'))"
    )
    assert turn % 360 == pytest.approx(270)  # two segments of 180°; the first is centred at 90°
    assert_clean(page_errors)
