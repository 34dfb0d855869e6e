"""The consent kept when someone joins, a known address joining again from the landing page,
and what a customer's export holds once they are erased, asked of the services. The HTTP
side is in tests/web/test_join_flow.py and tests/web/test_api_customers.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from referral import emails
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    ConfirmationToken,
    ConsentRecord,
    Customer,
    OutboxMessage,
    Participation,
)
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign, join_from_page
from referral.services.privacy import erase_customer, export_customer
from referral.services.rules import add_rule
from tests.factories import Factory


def count(model: type) -> int:
    """Rows of ``model`` now."""
    return db.session.scalar(select(func.count()).select_from(model)) or 0


SHOP_AGENT = "ShopBackend/3.1 (+https://shop.example) " + "s" * 300
TERMS = "I agree to hear from Brand about this offer."


@pytest.fixture
def live(factory: Factory) -> Campaign:
    campaign = factory.campaign(status="live", slug="summer", name="Summer & friends")
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 25})
    return campaign


def consents(customer_id: int) -> list[ConsentRecord]:
    query = select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
    return list(db.session.scalars(query.order_by(ConsentRecord.id)))


@pytest.fixture
def anna(live: Campaign) -> Participation:
    """Anna, signed up by the shop with her consent, and Ben, her friend."""
    request = JoinRequest(
        email="anna@example.com",
        name="Anna Bell",
        confirmed=True,
        consent_text=TERMS,
        consent_version="shop-7",
    )
    visitor = Visitor(
        ip="203.0.113.9",
        user_agent=SHOP_AGENT,
        visitor_id="anna-device",
        page="https://shop.example/checkout",
    )
    anna = join_campaign(live, request, visitor).participation
    friend = JoinRequest(email="ben@example.com", referral_code=anna.referral_code, confirmed=True)
    join_campaign(live, friend)
    return anna


# --- consent on joining ----------------------------------------------------------------------


def test_a_consent_is_recorded_with_where_it_was_given_and_a_clipped_user_agent(
    anna: Participation,
) -> None:
    rows = consents(anna.customer_id)
    assert [(r.action, r.purpose, r.text, r.version) for r in rows] == [
        ("given", "campaign_terms", TERMS, "shop-7")
    ]
    assert rows[0].page == "https://shop.example/checkout"
    assert rows[0].user_agent == SHOP_AGENT[:256]


def test_a_marketing_consent_is_recorded_as_such(live: Campaign) -> None:
    request = JoinRequest(email="mo@example.com", consent_text=TERMS, consent_purpose="marketing")
    joined = join_campaign(live, request, Visitor(page="api")).participation
    assert [(r.purpose, r.page, r.action) for r in consents(joined.customer_id)] == [
        ("marketing", "api", "given")
    ]


def test_a_participant_without_consent_gets_no_consent_row(live: Campaign) -> None:
    joined = join_campaign(live, JoinRequest(email="plain@example.com")).participation
    assert consents(joined.customer_id) == []


# --- a known address joins again from the landing page ---------------------------------------


def page_join(campaign: Campaign, email: str) -> Any:
    request = JoinRequest(email=email, consent_text="Yes.", consent_version="default-1")
    visitor = Visitor(ip="203.0.113.77", page="http://localhost/c/summer")
    return join_from_page(campaign, request, visitor, emails.confirmation)


def test_joining_again_with_a_pending_address_sends_a_fresh_link_and_stores_nothing_else(
    live: Campaign,
) -> None:
    first = page_join(live, "anna@example.com")
    again = page_join(live, "ANNA@example.com")
    assert (first.created, again.created) == (True, False)
    assert again.participation.id == first.participation.id
    assert count(Participation) == 1
    assert count(OutboxMessage) == 2
    assert count(ConfirmationToken) == 2
    assert count(ConsentRecord) == 1


def test_joining_again_after_confirming_sends_nothing_more(live: Campaign) -> None:
    first = page_join(live, "anna@example.com")
    confirm_participation(first.participation)
    again = page_join(live, "anna@example.com")
    assert not again.created and again.participation.status == "confirmed"
    assert count(OutboxMessage) == 1


# --- the export of an erased customer --------------------------------------------------------


def test_an_export_after_erasure_holds_nothing_personal(anna: Participation) -> None:
    customer = db.session.get(Customer, anna.customer_id)
    assert customer is not None
    hashes = [h for h in (anna.ip_hash, anna.visitor_hash, anna.agent_hash) if h]
    assert hashes
    assert erase_customer(customer)
    body = export_customer(customer)
    dump = json.dumps(body, default=str)
    for personal in ("anna", "Anna", "Bell", "example.com", "ShopBackend", "shop.example", *hashes):
        assert personal not in dump, personal
    assert body["customer"]["email"] is None and body["customer"]["erased_at"]
    assert body["consents"][0]["text"] == TERMS  # the proof of what was agreed stays
    db.session.commit()
    exported = select(AuditEntry.data).where(AuditEntry.action == "customer.exported")
    assert list(db.session.scalars(exported)) == [{"erased": True}]


def test_erasing_an_erased_customer_again_changes_and_records_nothing(
    anna: Participation,
) -> None:
    customer = db.session.get(Customer, anna.customer_id)
    assert customer is not None
    assert erase_customer(customer) is True
    placeholder = customer.email
    assert erase_customer(customer) is False
    db.session.expire_all()
    assert customer.email == placeholder
    erased = select(func.count()).where(AuditEntry.action == "customer.erased")
    assert db.session.scalar(erased) == 1
