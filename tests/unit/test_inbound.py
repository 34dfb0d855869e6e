"""Payment providers' signatures and notices (referral.domain.inbound)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from referral.domain.inbound import (
    BadSignature,
    minor_units,
    read_shopify,
    verify_shopify,
    verify_stripe,
)

BODY = b'{"id":"evt_1"}'


def _v1(secret: str, stamp: int, body: bytes = BODY) -> str:
    return hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_stripe_accepts_any_matching_v1_while_a_secret_is_rolled_over() -> None:
    header = f"t=1000,v1={_v1('old', 1000)},v1={_v1('new', 1000)},v0=abc"
    verify_stripe("new", header, BODY, now=1000)
    verify_stripe("old", header, BODY, now=1000 + 300)


def test_stripe_refuses_five_minutes_and_one_second_either_way() -> None:
    header = f"t=1000,v1={_v1('s', 1000)}"
    for now in (1000 + 301, 1000 - 301):
        with pytest.raises(BadSignature):
            verify_stripe("s", header, BODY, now=now)


def test_stripe_refuses_two_timestamps() -> None:
    with pytest.raises(BadSignature):
        verify_stripe("s", f"t=1000,t=1001,v1={_v1('s', 1000)}", BODY, now=1000)


def test_shopify_refuses_a_header_that_is_not_base64_ascii() -> None:
    with pytest.raises(BadSignature):
        verify_shopify("s", "ünïcode", BODY)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("49.99", "EUR", 4999), ("500", "JPY", 500), ("0.005", "EUR", 0), ("x", "EUR", None),
     ("-1", "EUR", None), ("NaN", "EUR", None), (True, "EUR", None)],
)  # fmt: skip
def test_prices_in_minor_units(amount: object, currency: str, expected: int | None) -> None:
    assert minor_units(amount, currency) == expected


def test_a_shopify_order_code_comes_from_its_note_attributes() -> None:
    body = b'{"id": 7, "note_attributes": [{"name": "Referral", "value": "ABC"}]}'
    notice = read_shopify("orders/paid", "wh", body)
    assert (notice.kind, notice.order, notice.referral_code) == ("purchase", "shopify:7", "ABC")
