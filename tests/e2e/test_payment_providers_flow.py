"""A payment provider in a real browser: an owner pastes Stripe's signing secret on the
Webhooks page, Stripe's signed event reaches the shown address over a real socket, the page
lists it, and removing the provider closes the address."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Event
from referral.services.rules import add_rule
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = [pytest.mark.e2e]
SECRET = "whsec_e2e_signing_secret_0001"


def _post(url: str, body: bytes, secret: str) -> tuple[int, dict[str, Any]]:
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={stamp},v1={mac}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_owner_sets_up_stripe_and_its_signed_checkout_is_a_purchase(
    live_server: LiveServer,
    desktop_page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    page = desktop_page
    marketer, workspace = factory.marketer(role="owner")
    campaign = factory.campaign(workspace, status="live", name="Spring shop")
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 10})
    buyer = factory.participation(
        campaign,
        status="confirmed",
        confirmed_at=campaign.created_at,
        customer=factory.customer(workspace, "buyer@example.com"),
    )
    sign_in(page, marketer.email)
    db.session.rollback()

    page.goto(live_server("/admin/webhooks"))
    stripe = page.get_by_test_id("provider-stripe")
    expect(stripe).to_contain_text("Not set up")
    stripe.get_by_label("Signing secret").fill("short")
    stripe.get_by_role("button", name="Set up Stripe").click()
    expect(page.get_by_test_id("provider-stripe")).to_contain_text("Paste the signing secret")
    stripe = page.get_by_test_id("provider-stripe")
    stripe.get_by_label("Signing secret").fill(SECRET)
    stripe.get_by_label("Campaign of its orders").select_option(label="Spring shop")
    stripe.get_by_role("button", name="Set up Stripe").click()
    expect(page.locator(".flash-success")).to_contain_text("Stripe is set up")
    stripe = page.get_by_test_id("provider-stripe")
    expect(stripe.get_by_test_id("provider-secret-hint")).to_have_text("…0001")
    assert SECRET not in page.content()
    address = stripe.get_by_test_id("provider-address").inner_text()
    path = address[address.index("/hooks/stripe/") :]

    session = {"id": "cs_e2e", "payment_intent": "pi_e2e", "payment_status": "paid",
               "amount_total": 1999, "currency": "eur",
               "customer_details": {"email": "buyer@example.com"}}  # fmt: skip
    body = json.dumps(
        {"id": "evt_e2e", "type": "checkout.session.completed", "data": {"object": session}}
    ).encode()
    assert _post(live_server(path), body, "whsec_wrong_secret_0000")[0] == 401
    status, answer = _post(live_server(path), body, SECRET)
    assert (status, answer["status"]) == (200, "recorded")
    db.session.rollback()
    purchase = db.session.scalar(select(Event).where(Event.kind == "purchase"))
    assert purchase is not None and purchase.participation_id == buyer.id

    page.reload()
    rows = page.get_by_test_id("provider-events").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("checkout.session.completed")
    expect(rows.first).to_contain_text("Recorded")

    page.get_by_test_id("provider-stripe").get_by_role("button", name="Remove").click()
    expect(page.locator(".flash-success")).to_contain_text("Stripe is no longer received")
    assert _post(live_server(path), body, SECRET)[0] == 404
    # the one refused form (422) is the only thing the browser reports
    expected = [e for e in page_errors if "providers/stripe" in e and "422" in e]
    assert len(expected) == 1
    assert_clean([e for e in page_errors if e not in expected])
