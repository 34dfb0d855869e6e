"""Invariant 6: nothing lost, nothing leaked — export, erasure and hashed IPs."""

from __future__ import annotations

from sqlalchemy import func, select, text

from referral.extensions import db
from referral.models import Customer, LedgerEntry, Participation
from referral.services.privacy import erase_customer, export_customer
from referral.services.referrals import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.factories import Factory

RAW_IP = "203.0.113.77"


def _setup(factory: Factory):
    campaign = factory.campaign(status="live")
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join_campaign(
        campaign,
        JoinRequest(
            email="ada@example.com",
            name="Ada Lovelace",
            confirmed=True,
            consent_text="I agree to the rules",
            consent_version="3",
        ),
        Visitor(ip=RAW_IP, user_agent="Firefox", visitor_id="v-ada", page="/c/x"),
    ).participation
    friends = [
        join_campaign(
            campaign,
            JoinRequest(
                email=f"f{i}@example.com", referral_code=advocate.referral_code, confirmed=True
            ),
            Visitor(ip=f"198.51.100.{i}"),
        ).participation
        for i in range(3)
    ]
    return campaign, advocate, friends


def _totals():
    return db.session.execute(select(func.count(), func.sum(LedgerEntry.amount))).one()


def test_invariant_6_ips_are_stored_only_as_keyed_hashes(factory: Factory, database_url) -> None:
    _setup(factory)
    for table in ("participations", "consent_records", "clicks", "events"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        assert all(RAW_IP not in str(value) for row in rows for value in row)


def test_an_export_holds_the_customers_consents_participations_and_rewards(
    factory: Factory,
) -> None:
    _, advocate, _ = _setup(factory)
    customer = db.session.get(Customer, advocate.customer_id)
    data = export_customer(customer)
    assert data["customer"]["email"] == "ada@example.com"
    assert data["consents"][0]["text"] == "I agree to the rules"
    assert data["consents"][0]["version"] == "3"
    assert data["participations"][0]["referral_code"] == advocate.referral_code
    assert sum(r["amount"] for r in data["rewards"]) == 300


def test_invariant_6_erasure_anonymises_but_keeps_the_graph_and_the_totals(
    factory: Factory,
) -> None:
    _, advocate, friends = _setup(factory)
    before = _totals()
    customer = db.session.get(Customer, advocate.customer_id)
    erase_customer(customer)
    db.session.expire_all()
    erased = db.session.get(Customer, advocate.customer_id)
    assert "ada" not in erased.email and erased.name == "" and erased.erased_at is not None
    kept = db.session.get(Participation, advocate.id)
    assert kept.ip_hash is None and kept.visitor_hash is None
    assert [db.session.get(Participation, f.id).referrer_id for f in friends] == [advocate.id] * 3
    assert _totals() == before
    dump = str(export_customer(erased))
    assert "ada@example.com" not in dump and "Ada" not in dump


def test_erasing_twice_changes_nothing_more(factory: Factory) -> None:
    _, advocate, _ = _setup(factory)
    customer = db.session.get(Customer, advocate.customer_id)
    erase_customer(customer)
    first = customer.email
    erase_customer(customer)
    assert customer.email == first
