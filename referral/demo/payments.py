"""The demo's payment provider: a Stripe receiver for the referral campaign, signed with a
secret meant for local testing (:data:`DEMO_STRIPE_SECRET`, named in the README), and one
order through it: a referred friend's checkout, which paid their referrer, then its refund,
which made that reward void. Both go through the receiver's service as a signed delivery
from Stripe would (read from Stripe's JSON, recorded once), so the Webhooks page lists the
receipts and the timelines show the purchase and the refund. Idempotent: the receiver is
created when missing and the order recorded once.
"""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased

from referral.domain.inbound import read_stripe
from referral.extensions import db
from referral.models import Campaign, Customer, InboundHook, InboundReceipt, Participation
from referral.services import inbound, inbound_hooks

# Documented in the README for signing test deliveries to the demo's receiver; a real
# receiver takes the secret Stripe shows.
DEMO_STRIPE_SECRET = "whsec_demo_local_testing_only"  # noqa: S105
SLUG = "demo-coffee-friends"
CHECKOUT_EVENT = "evt_demo_checkout_1"
REFUND_EVENT = "evt_demo_refund_1"
PAYMENT_INTENT = "pi_demo_1"
AMOUNT = 2499


def demo_receiver(workspace_id: int) -> InboundHook | None:
    """The demo workspace's Stripe receiver, if it has one."""
    return db.session.scalar(
        select(InboundHook).where(
            InboundHook.workspace_id == workspace_id, InboundHook.provider == "stripe"
        )
    )


def receiver_address(hook: InboundHook) -> str:
    """The address to enter in Stripe's webhook settings (or to post test deliveries to)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/hooks/{hook.provider}/{hook.key}"


def seed_demo_payments(workspace_id: int) -> InboundHook | None:
    """The receiver, and its one order bought and refunded; None when the referral campaign
    is not there (or not live)."""
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.slug == SLUG)
    )
    if campaign is None or campaign.status != "live":
        return None
    hook = demo_receiver(workspace_id) or inbound_hooks.create_hook(
        workspace_id, "stripe", DEMO_STRIPE_SECRET, campaign.id, actor="demo"
    )
    if _received(hook, CHECKOUT_EVENT):
        return hook
    buyer = _referred_friend(campaign)
    if buyer is None:
        return hook
    inbound.receive(hook, read_stripe(_checkout(buyer)))
    inbound.receive(hook, read_stripe(_refund()))
    return hook


def _received(hook: InboundHook, delivery_id: str) -> bool:
    return (
        db.session.scalar(
            select(InboundReceipt.id).where(
                InboundReceipt.workspace_id == hook.workspace_id,
                InboundReceipt.provider == hook.provider,
                InboundReceipt.delivery_id == delivery_id,
            )
        )
        is not None
    )


def _referred_friend(campaign: Campaign) -> tuple[Participation, str] | None:
    """The first confirmed participant whose referrer is confirmed too (so the purchase
    pays someone), with their address."""
    referrer = aliased(Participation)
    found = db.session.execute(
        select(Participation, Customer.email_display)
        .join(Customer, Customer.id == Participation.customer_id)
        .join(referrer, referrer.id == Participation.referrer_id)
        .where(
            Participation.campaign_id == campaign.id,
            Participation.status == "confirmed",
            referrer.status == "confirmed",
            Customer.erased_at.is_(None),
        )
        .order_by(Participation.id)
        .limit(1)
    ).first()
    return None if found is None else (found[0], str(found[1]))


def _checkout(buyer: tuple[Participation, str]) -> bytes:
    """Stripe's ``checkout.session.completed``, as it would post it."""
    participation, email = buyer
    session = {
        "id": "cs_demo_1",
        "object": "checkout.session",
        "payment_intent": PAYMENT_INTENT,
        "payment_status": "paid",
        "amount_total": AMOUNT,
        "currency": "eur",
        "customer_details": {"email": email},
        "metadata": {"referral_code": participation.referral_code},
    }
    return _event(CHECKOUT_EVENT, "checkout.session.completed", session)


def _refund() -> bytes:
    """Stripe's ``charge.refunded`` of that payment, in full."""
    charge = {
        "id": "ch_demo_1",
        "object": "charge",
        "payment_intent": PAYMENT_INTENT,
        "amount_refunded": AMOUNT,
        "currency": "eur",
        "refunded": True,
    }
    return _event(REFUND_EVENT, "charge.refunded", charge)


def _event(event_id: str, kind: str, thing: dict[str, object]) -> bytes:
    return json.dumps({"id": event_id, "type": kind, "data": {"object": thing}}).encode()
