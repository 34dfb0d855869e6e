"""POST /hooks/stripe/<key> and /hooks/shopify/<key>: signed purchases and refunds from a
payment provider, acted on once, answered in JSON, never 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Event,
    InboundHook,
    InboundReceipt,
    LedgerEntry,
    Participation,
    Workspace,
)
from referral.models.webhooks import WebhookDelivery
from referral.services import inbound_hooks, webhooks
from referral.services.rules import add_rule
from tests.factories import Factory
from tests.web.conftest import count, race

STRIPE_SECRET = "whsec_test_0123456789abcdef"
SHOPIFY_SECRET = "shpss_0123456789abcdef"


@pytest.fixture
def shop(factory: Factory) -> dict[str, Any]:
    """A live campaign paying 500 points to the referrer of a buyer, with Anna (confirmed,
    referred by Ada) and the workspace's two receivers."""
    workspace = factory.workspace()
    campaign = factory.campaign(workspace, status="live", reward_depth=1)
    add_rule(campaign, {"event": "purchase", "level": 1, "reward": "points", "amount": 500})
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 50})
    now = campaign.created_at
    ada = factory.participation(campaign, status="confirmed", confirmed_at=now)
    anna = factory.participation(
        campaign,
        ada,
        status="confirmed",
        confirmed_at=now,
        customer=factory.customer(workspace, "anna@example.com"),
    )
    stripe = inbound_hooks.create_hook(workspace.id, "stripe", STRIPE_SECRET)
    shopify = inbound_hooks.create_hook(workspace.id, "shopify", SHOPIFY_SECRET)
    return {
        "workspace": workspace,
        "campaign": campaign,
        "ada": ada,
        "anna": anna,
        "stripe": f"/hooks/stripe/{stripe.key}",
        "shopify": f"/hooks/shopify/{shopify.key}",
    }


def stripe_body(event_id: str, kind: str = "checkout.session.completed", **obj: Any) -> bytes:
    if kind == "checkout.session.completed":
        thing: dict[str, Any] = {
            "id": "cs_1",
            "object": "checkout.session",
            "payment_intent": "pi_1",
            "payment_status": "paid",
            "amount_total": 4999,
            "currency": "eur",
            "customer_details": {"email": "Anna@Example.com"},
            "metadata": {},
        }
    else:
        thing = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
                 "amount_refunded": 4999, "currency": "eur", "refunded": True}  # fmt: skip
    thing.update(obj)
    return json.dumps({"id": event_id, "type": kind, "data": {"object": thing}}).encode()


def stripe_signed(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    stamp = at if at is not None else int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def post_stripe(client: FlaskClient, path: str, body: bytes, signature: str | None = None) -> Any:
    header = stripe_signed(body) if signature is None else signature
    return client.post(
        path, data=body, headers={"Stripe-Signature": header, "Content-Type": "application/json"}
    )


def shopify_headers(body: bytes, topic: str, webhook_id: str, secret: str = SHOPIFY_SECRET) -> Any:
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "X-Shopify-Hmac-Sha256": mac,
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json",
    }


def paid(participation: Participation) -> list[tuple[int, str, int]]:
    db.session.rollback()
    rows = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.participation_id == participation.id)
    )
    return [(row.amount, row.status, row.level) for row in rows]


def test_a_signed_stripe_checkout_is_a_purchase_of_the_buyer_found_by_address(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    response = post_stripe(client, shop["stripe"], stripe_body("evt_1"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "recorded"
    purchase = db.session.scalar(select(Event).where(Event.kind == "purchase"))
    assert purchase is not None and purchase.participation_id == shop["anna"].id
    assert (purchase.amount, purchase.currency, purchase.external_id) == (
        4999,
        "EUR",
        "stripe:pi_1",
    )
    assert [(amount, level) for amount, _, level in paid(shop["ada"])] == [(500, 1)]
    assert [amount for amount, *_ in paid(shop["anna"])] == [50]


def test_a_referral_code_in_the_metadata_names_the_buyer(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    body = stripe_body(
        "evt_code",
        customer_details={"email": "someone.else@example.com"},
        metadata={"referral_code": shop["ada"].referral_code},
    )
    assert post_stripe(client, shop["stripe"], body).get_json()["status"] == "recorded"
    purchase = db.session.scalar(select(Event).where(Event.kind == "purchase"))
    assert purchase is not None and purchase.participation_id == shop["ada"].id


@pytest.mark.parametrize(
    ("signature", "detail"),
    [
        ("", "missing"),
        ("t=1,v1=00", "older than five minutes"),
        ("v1=abc", "not t="),
        ("wrong-secret", "does not match"),
        ("old", "older than five minutes"),
    ],
)
def test_a_bad_or_old_stripe_signature_is_401_and_changes_nothing(
    client: FlaskClient, shop: dict[str, Any], signature: str, detail: str
) -> None:
    body = stripe_body("evt_bad")
    if signature == "wrong-secret":
        signature = stripe_signed(body, secret="whsec_someone_else")
    elif signature == "old":
        signature = stripe_signed(body, at=int(time.time()) - 6 * 60)
    response = post_stripe(client, shop["stripe"], body, signature)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert detail in response.get_json()["detail"]
    assert (count(Event, Event.kind == "purchase"), count(InboundReceipt)) == (0, 0)


def test_a_signature_over_another_body_is_401(client: FlaskClient, shop: dict[str, Any]) -> None:
    signature = stripe_signed(stripe_body("evt_1", amount_total=1))
    response = post_stripe(client, shop["stripe"], stripe_body("evt_1"), signature)
    assert response.status_code == 401
    assert count(LedgerEntry) == 0


def test_a_signed_body_that_is_not_a_stripe_event_is_400(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    for body in (b"{nope", b"[1]", b'{"id": "evt_1"}', b"\xff\xfe", b'{"id": NaN}'):
        response = post_stripe(client, shop["stripe"], body)
        assert response.status_code == 400, body
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"]
    assert count(InboundReceipt) == 0


def test_an_unknown_receiver_is_a_json_404(client: FlaskClient, shop: dict[str, Any]) -> None:
    body = stripe_body("evt_1")
    for path in ("/hooks/stripe/nope", shop["shopify"].replace("shopify", "stripe")):
        response = post_stripe(client, path, body)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.get(shop["stripe"]).status_code == 405


def test_the_same_stripe_event_again_is_acted_on_once(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    body = stripe_body("evt_1")
    answers = [post_stripe(client, shop["stripe"], body).get_json()["status"] for _ in range(3)]
    assert answers == ["recorded", "duplicate", "duplicate"]
    # another delivery of the same order (a second event id) records no second purchase
    again = post_stripe(client, shop["stripe"], stripe_body("evt_2")).get_json()
    assert (again["status"], again["reason"]) == ("recorded", "order_known")
    assert (count(Event, Event.kind == "purchase"), count(LedgerEntry)) == (1, 2)


def test_concurrent_deliveries_of_one_event_pay_once(
    app: Flask, client: FlaskClient, shop: dict[str, Any]
) -> None:
    body = stripe_body("evt_race")
    header = stripe_signed(body)

    def deliver() -> tuple[int, str]:
        response = post_stripe(client, shop["stripe"], body, header)
        return response.status_code, response.get_json()["status"]

    results, errors = race(app, 8, deliver)
    assert errors == []
    assert sorted(results) == [(200, "duplicate")] * 7 + [(200, "recorded")]
    assert (count(InboundReceipt), count(Event, Event.kind == "purchase")) == (1, 1)
    assert count(LedgerEntry) == 2


def test_a_refund_voids_exactly_what_its_purchase_paid_once(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    webhooks.create_endpoint(shop["workspace"], "https://shop.example.com/in", ["reward.voided"])
    post_stripe(client, shop["stripe"], stripe_body("evt_1"))
    other = stripe_body("evt_other", payment_intent="pi_2", id="cs_2")
    post_stripe(client, shop["stripe"], other)
    assert count(LedgerEntry) == 4
    refund = stripe_body("evt_refund", "charge.refunded")
    answer = post_stripe(client, shop["stripe"], refund).get_json()
    assert answer["status"] == "recorded"
    db.session.rollback()
    purchase = db.session.scalar(select(Event).where(Event.external_id == "stripe:pi_1"))
    assert purchase is not None
    lines = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    voided = [(line.source_event_id == purchase.id, line.status, line.reason) for line in lines]
    assert sorted(voided) == [(False, "approved", "")] * 2 + [(True, "void", "refund")] * 2
    # the same refund again, and a second refund of the same charge, void nothing more
    post_stripe(client, shop["stripe"], refund)
    post_stripe(client, shop["stripe"], stripe_body("evt_refund_2", "charge.refunded"))
    sent = db.session.scalars(select(WebhookDelivery.event_key)).all()
    assert sorted(sent) == sorted(
        f"reward.voided:{line.id}" for line in lines if line.source_event_id == purchase.id
    )
    assert count(Event, Event.kind == "refund") == 2
    assert count(AuditEntry, AuditEntry.action == "ledger.refund") == 1


def test_a_refund_of_an_order_never_seen_is_ignored_with_the_reason(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    body = stripe_body("evt_r", "charge.refunded", payment_intent="pi_unknown")
    answer = post_stripe(client, shop["stripe"], body).get_json()
    assert (answer["status"], answer["reason"]) == ("ignored", "unknown_order")


def test_topics_not_handled_and_unknown_buyers_are_answered_200_and_left_alone(
    client: FlaskClient, shop: dict[str, Any]
) -> None:
    other = json.dumps({"id": "evt_x", "type": "customer.created", "data": {"object": {}}})
    assert post_stripe(client, shop["stripe"], other.encode()).get_json()["reason"] == (
        "topic_not_handled"
    )
    stranger = stripe_body("evt_y", customer_details={"email": "who@example.com"})
    assert post_stripe(client, shop["stripe"], stranger).get_json()["reason"] == "no_participant"
    unpaid = stripe_body("evt_z", payment_status="unpaid")
    assert post_stripe(client, shop["stripe"], unpaid).get_json()["reason"] == "not_paid"
    assert count(LedgerEntry) == 0


def test_shopify_orders_paid_and_refunds_create(client: FlaskClient, shop: dict[str, Any]) -> None:
    order = json.dumps(
        {
            "id": 820982911946154508,
            "email": "someone@example.com",
            "total_price": "49.99",
            "currency": "EUR",
            "note_attributes": [{"name": "referral_code", "value": shop["anna"].referral_code}],
        }
    ).encode()
    headers = shopify_headers(order, "orders/paid", "wh-1")
    assert client.post(shop["shopify"], data=order, headers=headers).get_json()["status"] == (
        "recorded"
    )
    again = client.post(shop["shopify"], data=order, headers=headers).get_json()
    assert again["status"] == "duplicate"
    purchase = db.session.scalar(select(Event).where(Event.kind == "purchase"))
    assert purchase is not None and (purchase.amount, purchase.participation_id) == (
        4999,
        shop["anna"].id,
    )
    refund = json.dumps({"id": 1, "order_id": 820982911946154508}).encode()
    forged = {**shopify_headers(refund, "refunds/create", "wh-2", secret="not-the-secret")}
    assert client.post(shop["shopify"], data=refund, headers=forged).status_code == 401
    headers = shopify_headers(refund, "refunds/create", "wh-2")
    assert client.post(shop["shopify"], data=refund, headers=headers).get_json()["status"] == (
        "recorded"
    )
    assert {status for _, status, _ in paid(shop["ada"]) + paid(shop["anna"])} == {"void"}
    no_id = {k: v for k, v in headers.items() if k != "X-Shopify-Webhook-Id"}
    assert client.post(shop["shopify"], data=refund, headers=no_id).status_code == 400


def test_a_receiver_tied_to_a_campaign_reports_there_only(
    client: FlaskClient, factory: Factory, shop: dict[str, Any]
) -> None:
    elsewhere = factory.campaign(shop["workspace"], status="live")
    hook = db.session.scalar(select(InboundHook).where(InboundHook.provider == "stripe"))
    assert hook is not None
    inbound_hooks.update_hook(hook, campaign_id=elsewhere.id)
    answer = post_stripe(client, shop["stripe"], stripe_body("evt_1")).get_json()
    assert (answer["status"], answer["reason"]) == ("ignored", "no_participant")
    assert db.session.get(Campaign, elsewhere.id) is not None
    assert db.session.get(Workspace, shop["workspace"].id) is not None


def test_two_refunds_of_one_purchase_at_the_same_moment_void_its_rewards_once(
    app: Flask, client: FlaskClient, shop: dict[str, Any]
) -> None:
    webhooks.create_endpoint(shop["workspace"], "https://shop.example.com/in", ["reward.voided"])
    post_stripe(client, shop["stripe"], stripe_body("evt_1"))
    bodies = iter([stripe_body(f"evt_refund_{n}", "charge.refunded") for n in range(6)])
    signed = [(body, stripe_signed(body)) for body in bodies]
    turn = iter(range(len(signed)))

    def refund() -> int:
        body, header = signed[next(turn)]
        return int(post_stripe(client, shop["stripe"], body, header).status_code)

    results, errors = race(app, len(signed), refund)
    assert errors == [] and results == [200] * len(signed)
    assert count(Event, Event.kind == "refund") == len(signed)
    assert {status for _, status, _ in paid(shop["ada"]) + paid(shop["anna"])} == {"void"}
    assert count(WebhookDelivery) == 2  # one reward.voided per line, whoever voided it
    assert count(AuditEntry, AuditEntry.action == "ledger.refund") == 1
