"""Webhooks in a real browser: an owner registers a receiver, an event happens, the owner
delivers it from the page and the receiver gets a signed POST."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.domain import webhooks as domain
from referral.extensions import db
from referral.models.base import utcnow
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e]


def test_an_owner_adds_a_webhook_and_delivers_a_confirmation_to_it(
    live_server: LiveServer,
    desktop_page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
    receiver: Receiver,
) -> None:
    page = desktop_page
    marketer, workspace = factory.marketer(role="owner")
    campaign = factory.campaign(workspace, status="live")
    sign_in(page, marketer.email)
    db.session.rollback()

    page.get_by_role("link", name="Webhooks").click()
    expect(page.locator("h1")).to_have_text("Webhooks")
    page.get_by_label("Address (URL)").fill(receiver.url)
    page.get_by_label("A reward was granted").uncheck()
    page.get_by_label("A draw was completed").uncheck()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    expect(page.get_by_test_id("webhook-endpoints")).to_contain_text("participant.confirmed")

    db.session.rollback()
    join_campaign(campaign, JoinRequest(email="friend@example.com", confirmed=True), Visitor())
    page.goto(live_server("/admin/webhooks"))
    rows = page.get_by_test_id("webhook-deliveries").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Waiting")

    page.get_by_role("button", name="Deliver due now").click()
    expect(page.locator(".flash-success")).to_contain_text("Delivered: 1")
    expect(page.get_by_test_id("webhook-deliveries").locator("tbody tr").first).to_contain_text(
        "Delivered"
    )
    (got,) = receiver.received
    header = got["headers"][domain.SIGNATURE_HEADER]
    assert domain.verify_signature(secret, header, got["body"], int(utcnow().timestamp()))
    assert json.loads(got["body"])["data"]["participant"]["email"] == "friend@example.com"
    assert_clean(page_errors)
