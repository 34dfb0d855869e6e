"""Leaving and choosing mail in a real browser: a customer opens their preference page from
its signed link, unticks marketing and sees it saved; a mail client's one-click POST is
answered 200 without cookies; the unsubscribe page's button works on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import ConsentRecord, Customer
from referral.services import subscriptions
from tests.e2e.conftest import LiveServer, assert_clean
from tests.factories import Factory
from tests.services.journey_setup import T0, give_consent

pytestmark = pytest.mark.e2e


def _subscribed(factory: Factory, *topics: str) -> Customer:
    customer = factory.customer(factory.workspace())
    for topic in topics:
        give_consent(customer, topic, T0)
    db.session.commit()
    return customer


def _actions(customer: Customer) -> list[tuple[str, str, str]]:
    db.session.rollback()
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .order_by(ConsentRecord.id)
    )
    return [(r.purpose, r.action, r.page) for r in rows]


def test_a_customer_unticks_marketing_on_their_preference_page(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing")
    page.goto(live_server(f"/preferences/{subscriptions.preferences_token(customer.id)}"))
    expect(page.locator("h1")).to_have_text("Your e-mail preferences")
    marketing = page.get_by_label("E-mail me news and offers")
    expect(marketing).to_be_checked()
    marketing.uncheck()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_test_id("saved")).to_have_text("Your choices are saved.")
    expect(page.get_by_label("E-mail me news and offers")).not_to_be_checked()
    assert _actions(customer)[1:] == [("marketing", "withdrawn", "preferences-page")]
    assert subscriptions.topics_of(customer) == {"transactional"}
    assert_clean(page_errors)


def test_a_birthday_without_a_day_is_refused_then_saved(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    customer = _subscribed(factory)
    url = live_server(f"/preferences/{subscriptions.preferences_token(customer.id)}")
    page.goto(url)
    page.get_by_label("E-mail me on my birthday").check()
    page.get_by_label("Month of your birthday").select_option("2")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label("Day of your birthday").select_option("29")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    db.session.rollback()
    assert (customer.birthday_month, customer.birthday_day) == (2, 29)
    assert subscriptions.topics_of(customer) == {"transactional", "birthday"}
    # The form without a day was answered 422 on purpose; Chromium logs that as an error.
    assert_clean([e for e in page_errors if not (e.startswith(url) and "422" in e)])


def test_one_click_post_answers_200_without_cookies(
    live_server: LiveServer, page: Any, factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing")
    link = live_server(f"/u/{subscriptions.unsubscribe_token(customer.id, 'marketing')}")
    answer = page.request.post(link, form={"List-Unsubscribe": "One-Click"})
    assert answer.status == 200
    assert "set-cookie" not in answer.headers
    assert _actions(customer)[1:] == [("marketing", "withdrawn", "one-click")]


def test_the_unsubscribe_pages_button_unsubscribes(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing")
    page.goto(live_server(f"/u/{subscriptions.unsubscribe_token(customer.id, 'marketing')}"))
    assert _actions(customer) == [("marketing", "given", "")]  # opening it changes nothing
    page.get_by_role("button", name="Unsubscribe from news and offers").click()
    expect(page.get_by_test_id("unsubscribed")).to_have_text("You are unsubscribed")
    assert _actions(customer)[1:] == [("marketing", "withdrawn", "unsubscribe-page")]
    assert_clean(page_errors)
