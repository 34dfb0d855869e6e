"""Receiving a payment provider's event: check it, record it once, act on it.

A delivery is checked against the workspace's receiver (its signature under the secret) and
read (:mod:`referral.domain.inbound`) before anything is written. Then one transaction
records its receipt, unique per workspace, provider and the provider's id for it, and acts:
a ``purchase`` is reported on the buyer's participation (found by the referral code the shop
passed, else by their address) and pays the campaign's rules as ``POST …/events`` does; a
``refund`` finds the purchase of its order and makes void what it paid. A delivery sent
again, also at the same moment, finds its receipt and does nothing more. What cannot be
acted on (no such buyer, an address not confirmed, an unknown order) is recorded as
``ignored`` with the reason and answered 200, since sending it again would not help.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import case, select, update

from referral.domain import inbound as domain
from referral.domain.emails import normalise_email
from referral.domain.errors import N_, DomainError, NotFound
from referral.extensions import db
from referral.models import Campaign, Customer, Event, InboundHook, InboundReceipt, Participation
from referral.services import events
from referral.services.rows import insert_once
from referral.services.tx import atomic


@dataclass(frozen=True)
class Outcome:
    """What the receiver answers: ``recorded``, ``ignored`` or ``duplicate``."""

    status: str
    reason: str = ""
    event_id: int | None = None
    voided: int = 0


def find_receiver(provider: str, key: str) -> InboundHook:
    """:raise NotFound: no receiver of ``provider`` has this key."""
    hook = None
    if 0 < len(key) <= 32:
        hook = db.session.scalar(
            select(InboundHook).where(InboundHook.key == key, InboundHook.provider == provider)
        )
    if hook is None:
        raise NotFound(N_("No such receiver: check the address in the integration's settings."))
    return hook


def read(hook: InboundHook, headers: Mapping[str, str], body: bytes) -> domain.Notice:
    """The checked notice of a delivery to ``hook`` (``headers`` by lower-case name).

    :raise BadSignature: a missing, wrong or (Stripe) old signature.
    :raise BadDelivery: a body or headers the provider would not send.
    """
    if hook.provider == "stripe":
        domain.verify_stripe(
            hook.secret, headers.get("stripe-signature", ""), body, int(time.time())
        )
        return domain.read_stripe(body)
    domain.verify_shopify(hook.secret, headers.get("x-shopify-hmac-sha256", ""), body)
    return domain.read_shopify(
        headers.get("x-shopify-topic", ""), headers.get("x-shopify-webhook-id", ""), body
    )


@atomic
def receive(hook: InboundHook, notice: domain.Notice) -> Outcome:
    """Record ``notice`` once and act on it (see the module), in one transaction."""
    values = {
        "workspace_id": hook.workspace_id,
        "provider": hook.provider,
        "delivery_id": notice.delivery_id,
        "topic": notice.topic,
        "status": "ignored",
        "reason": "",
        "event_id": None,
    }
    receipt_id = insert_once(InboundReceipt, values, ("workspace_id", "provider", "delivery_id"))
    if receipt_id is None:
        return Outcome("duplicate")
    outcome = _act(hook, notice)
    db.session.execute(
        update(InboundReceipt)
        .where(InboundReceipt.id == receipt_id)
        .values(status=outcome.status, reason=outcome.reason, event_id=outcome.event_id)
    )
    return outcome


def _act(hook: InboundHook, notice: domain.Notice) -> Outcome:
    if notice.kind is None:
        return Outcome("ignored", notice.skipped or "topic_not_handled")
    if not notice.order:
        return Outcome("ignored", "no_order")
    if notice.kind == "purchase":
        return _purchase(hook, notice)
    return _refund(hook, notice)


def _purchase(hook: InboundHook, notice: domain.Notice) -> Outcome:
    buyer = _buyer(hook, notice)
    if buyer is None:
        return Outcome("ignored", "no_participant")
    campaign = db.session.get(Campaign, buyer.campaign_id)
    assert campaign is not None
    try:
        with db.session.begin_nested():
            reported = events.report_event(
                campaign,
                buyer,
                "purchase",
                amount=notice.amount,
                currency=notice.currency,
                external_id=notice.order,
                data={"provider": hook.provider, "delivery_id": notice.delivery_id},
            )
    except DomainError as error:
        reason = "not_confirmed" if error.status == 409 else "refused"
        return Outcome("ignored", reason)
    return Outcome("recorded", "" if reported.created else "order_known", reported.event.id)


def _buyer(hook: InboundHook, notice: domain.Notice) -> Participation | None:
    """The participation a purchase is reported on: the one whose referral code the shop
    passed, else the buyer's by address: in the receiver's campaign when it names one, else
    the newest that is confirmed (in a live campaign first)."""
    people = (
        select(Participation)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .where(Campaign.workspace_id == hook.workspace_id, Participation.status != "rejected")
    )
    if hook.campaign_id is not None:
        people = people.where(Participation.campaign_id == hook.campaign_id)
    if notice.referral_code:
        found = db.session.scalar(people.where(Participation.referral_code == notice.referral_code))
        if found is not None:
            return found
    if not notice.email:
        return None
    customer_id = select(Customer.id).where(
        Customer.workspace_id == hook.workspace_id,
        Customer.email == normalise_email(notice.email),
    )
    ranked = people.where(Participation.customer_id.in_(customer_id)).order_by(
        case((Participation.confirmed_at.is_(None), 1), else_=0),
        case((Campaign.status == "live", 0), else_=1),
        Participation.id.desc(),
    )
    return db.session.scalars(ranked.limit(1)).first()


def _refund(hook: InboundHook, notice: domain.Notice) -> Outcome:
    purchase = db.session.scalar(
        select(Event)
        .where(
            Event.workspace_id == hook.workspace_id,
            Event.kind == "purchase",
            Event.external_id == notice.order,
        )
        .order_by(Event.id)
        .limit(1)
    )
    if purchase is None or purchase.participation_id is None:
        return Outcome("ignored", "unknown_order")
    buyer = db.session.get(Participation, purchase.participation_id)
    campaign = db.session.get(Campaign, purchase.campaign_id)
    assert buyer is not None and campaign is not None
    try:
        with db.session.begin_nested():
            refund = events.report_event(
                campaign,
                buyer,
                "refund",
                amount=notice.amount,
                currency=notice.currency,
                external_id=f"{notice.order}:refund:{notice.delivery_id}"[:128],
                data={"provider": hook.provider, "delivery_id": notice.delivery_id},
                purchase_external_id=notice.order,
                actor=f"integration:{hook.id}",
            )
    except DomainError:
        return Outcome("ignored", "refused")
    return Outcome("recorded", "", refund.event.id, len(refund.voided))
