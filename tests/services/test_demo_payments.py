"""The demo's Stripe receiver: set up for the referral campaign with the documented secret,
one referred friend's order bought through it and refunded (the referrer's reward made
void), seeded once; a delivery signed with the secret is accepted."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from referral.demo.payments import DEMO_STRIPE_SECRET, SLUG, seed_demo_payments
from referral.demo.seed import seed_demo
from referral.extensions import db
from referral.models import (
    Campaign,
    Event,
    InboundHook,
    InboundReceipt,
    LedgerEntry,
    Participation,
    Workspace,
)
from referral.models.webhooks import WebhookDelivery


def count(model: type, *where: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_the_demo_has_a_stripe_receiver_and_one_refunded_order_that_voided_a_reward(
    app: Flask,
) -> None:
    seed_demo(participants=60)
    [hook] = db.session.scalars(select(InboundHook)).all()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
    assert campaign is not None
    assert (hook.provider, hook.secret, hook.campaign_id) == (
        "stripe",
        DEMO_STRIPE_SECRET,
        campaign.id,
    )
    receipts = db.session.execute(
        select(InboundReceipt.topic, InboundReceipt.status).order_by(InboundReceipt.id)
    ).all()
    assert receipts == [("checkout.session.completed", "recorded"), ("charge.refunded", "recorded")]
    purchase = db.session.scalar(select(Event).where(Event.external_id == "stripe:pi_demo_1"))
    assert purchase is not None and purchase.kind == "purchase" and purchase.amount == 2499
    refund = db.session.scalar(select(Event).where(Event.kind == "refund"))
    assert refund is not None and refund.data["purchase_event_id"] == purchase.id
    assert refund.participation_id == purchase.participation_id
    lines = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.source_event_id == purchase.id)
    ).all()
    buyer = db.session.get(Participation, purchase.participation_id)
    assert buyer is not None
    assert [(line.participation_id, line.amount, line.status, line.reason) for line in lines] == [
        (buyer.referrer_id, 500, "void", "refund")
    ]
    assert count(WebhookDelivery) == 0  # the demo's endpoint is paused


def test_seeding_again_records_nothing_more(app: Flask) -> None:
    seed_demo(participants=60)
    counts = (count(InboundHook), count(InboundReceipt), count(Event), count(LedgerEntry))
    seed_demo(participants=60)
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
    assert workspace is not None
    seed_demo_payments(workspace.id)
    assert (count(InboundHook), count(InboundReceipt), count(Event), count(LedgerEntry)) == counts


def test_a_delivery_signed_with_the_documented_secret_is_accepted(app: Flask) -> None:
    seed_demo(participants=60)
    hook = db.session.scalars(select(InboundHook)).one()
    body = json.dumps(
        {"id": "evt_local_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    ).encode()
    stamp = int(time.time())
    mac = hmac.new(DEMO_STRIPE_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    answer = app.test_client().post(
        f"/hooks/stripe/{hook.key}",
        data=body,
        headers={"Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["status"] == "ignored"  # a topic the receiver does not act on
