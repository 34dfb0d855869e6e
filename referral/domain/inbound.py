"""Payment providers' events (Stripe, Shopify): their signatures and what they say (pure).

Stripe signs ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]``, the HMAC-SHA256 of
``"<t>.<raw body>"`` under the endpoint's signing secret; a ``t`` more than five minutes
away from now is refused (a replay). Shopify signs ``X-Shopify-Hmac-Sha256``, the base64
HMAC-SHA256 of the raw body under the app's secret, names the topic in ``X-Shopify-Topic``
and the delivery in ``X-Shopify-Webhook-Id``. Both are compared in constant time.

A notice is what the service acts on: a ``purchase`` or a ``refund`` of an order, the buyer's
address and referral code when given, the amount in minor units; anything else is ``None``
(answered, recorded, left alone).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from referral.domain.errors import N_, DomainError

STRIPE_TOLERANCE = 5 * 60
ID_MAX = 100
# Currencies without minor units (ISO 4217 exponent 0) among those shops use most.
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                          "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})  # fmt: skip
# The names of a Shopify order's note attribute, or a Stripe session's metadata key, that
# carry the buyer's referral code.
CODE_NAMES = ("referral_code", "referral")


class BadSignature(DomainError):
    """The delivery is not signed with the workspace's secret (or the signature is old)."""

    status = 401
    title = N_("Unauthorized")


class BadDelivery(DomainError):
    """The body or headers are not what the provider sends."""

    status = 400
    title = N_("Bad request")


@dataclass(frozen=True)
class Notice:
    """What one provider event says. ``order`` names the order a purchase records and a
    refund refers to (``stripe:<payment intent>``, ``shopify:<order id>``)."""

    delivery_id: str
    topic: str
    kind: str | None = None  # "purchase", "refund" or None (nothing to do)
    order: str = ""
    email: str = ""
    referral_code: str = ""
    amount: int | None = None
    currency: str | None = None
    skipped: str = ""  # why a handled topic does nothing (an unpaid session)


def verify_stripe(
    secret: str, header: str, body: bytes, now: int, tolerance: int = STRIPE_TOLERANCE
) -> None:
    """:raise BadSignature: no header, no ``t``, a ``t`` further than ``tolerance`` seconds
    from ``now``, or no ``v1`` that matches."""
    if not header:
        raise BadSignature(N_("The Stripe-Signature header is missing."))
    pairs = [item.strip().split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for name, value in pairs if name == "t"]
    signatures = [value for name, value in pairs if name == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise BadSignature(N_("The Stripe-Signature header is not t=…,v1=…."))
    if abs(now - int(stamps[0])) > tolerance:
        raise BadSignature(N_("The signature is older than five minutes (or from the future)."))
    mac = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256)
    expected = mac.hexdigest()
    # every candidate is compared, so the time taken says nothing about which one matched
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise BadSignature(N_("The signature does not match the body and the secret."))


def verify_shopify(secret: str, header: str, body: bytes) -> None:
    """:raise BadSignature: no header, or one that is not the body's HMAC."""
    if not header:
        raise BadSignature(N_("The X-Shopify-Hmac-Sha256 header is missing."))
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, header.strip().encode("ascii", "replace")):
        raise BadSignature(N_("The signature does not match the body and the secret."))


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def json_object(body: bytes) -> dict[str, Any]:
    """:raise BadDelivery: not UTF-8 JSON, or not an object."""
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadDelivery(N_("The body is not JSON.")) from None
    if not isinstance(parsed, dict):
        raise BadDelivery(N_("The body is not a JSON object."))
    return parsed


def _text(value: Any, limit: int = 254) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _ident(value: Any) -> str:
    """An id as text: a string or a whole number, at most ``ID_MAX`` characters."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        value = str(value)
    text = _text(value, ID_MAX + 1)
    return text if text.isprintable() and len(text) <= ID_MAX else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _currency(value: Any) -> str | None:
    text = _text(value).upper()
    return text if len(text) == 3 and text.isascii() and text.isalpha() else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def minor_units(amount: Any, currency: str | None) -> int | None:
    """``"49.99"`` EUR as 4999 (``"500"`` JPY as 500); None for anything not a price."""
    try:
        value = Decimal(str(amount)) if isinstance(amount, str | int) else None
    except InvalidOperation:
        return None
    if value is None or not value.is_finite() or value < 0 or value > Decimal(10) ** 12:
        return None
    exponent = 0 if currency in ZERO_DECIMAL else 2
    return int(value.scaleb(exponent).to_integral_value())


def read_stripe(body: bytes) -> Notice:
    """:raise BadDelivery: not a Stripe event (no ``id``, ``type`` or ``data.object``)."""
    event = json_object(body)
    delivery_id, topic = _ident(event.get("id")), _text(event.get("type"), 64)
    thing = _object(event.get("data")).get("object")
    if not delivery_id or not topic or not isinstance(thing, dict):
        raise BadDelivery(N_("This is not a Stripe event: it needs id, type and data.object."))
    notice = Notice(delivery_id, topic)
    if topic == "checkout.session.completed":
        return _stripe_session(notice, thing)
    if topic == "charge.refunded":
        order = _ident(thing.get("payment_intent")) or _ident(thing.get("id"))
        return Notice(
            delivery_id,
            topic,
            "refund",
            f"stripe:{order}" if order else "",
            amount=_whole(thing.get("amount_refunded")),
            currency=_currency(thing.get("currency")),
        )
    return notice


def _stripe_session(notice: Notice, session: dict[str, Any]) -> Notice:
    if session.get("payment_status") not in (None, "paid", "no_payment_required"):
        return Notice(notice.delivery_id, notice.topic, skipped="not_paid")
    order = _ident(session.get("payment_intent")) or _ident(session.get("id"))
    metadata = _object(session.get("metadata"))
    details = _object(session.get("customer_details"))
    return Notice(
        notice.delivery_id,
        notice.topic,
        "purchase",
        f"stripe:{order}" if order else "",
        email=_text(details.get("email")) or _text(session.get("customer_email")),
        referral_code=next((_text(metadata.get(n), 64) for n in CODE_NAMES if metadata.get(n)), ""),
        amount=_whole(session.get("amount_total")),
        currency=_currency(session.get("currency")),
    )


def read_shopify(topic: str, webhook_id: str, body: bytes) -> Notice:
    """:raise BadDelivery: without ``X-Shopify-Webhook-Id`` or ``X-Shopify-Topic``, or a
    body that is not a JSON object."""
    delivery_id, topic = _ident(webhook_id), _text(topic, 64)
    if not delivery_id or not topic:
        raise BadDelivery(N_("X-Shopify-Topic and X-Shopify-Webhook-Id are required."))
    thing = json_object(body)
    if topic == "orders/paid":
        order = _ident(thing.get("id"))
        currency = _currency(thing.get("currency"))
        customer = _object(thing.get("customer"))
        email = _text(thing.get("email")) or _text(thing.get("contact_email"))
        return Notice(
            delivery_id,
            topic,
            "purchase",
            f"shopify:{order}" if order else "",
            email=email or _text(customer.get("email")),
            referral_code=_note_code(thing.get("note_attributes")),
            amount=minor_units(thing.get("total_price"), currency),
            currency=currency,
        )
    if topic == "refunds/create":
        order = _ident(thing.get("order_id"))
        return Notice(delivery_id, topic, "refund", f"shopify:{order}" if order else "")
    return Notice(delivery_id, topic)


def _note_code(attributes: Any) -> str:
    for item in attributes if isinstance(attributes, list) else []:
        item = _object(item)
        if _text(item.get("name")).lower() in CODE_NAMES and _text(item.get("value"), 64):
            return _text(item.get("value"), 64)
    return ""
