"""Importing a marketer's own customers into a campaign, asked of the services: a re-run adds
nobody, a bad row is reported and the rest added, a failing chunk leaves nothing behind,
the consent is recorded as imported and grants no marketing mail, and the counters stay
exact."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral import emails
from referral.domain.consent_topics import MARKETING
from referral.domain.errors import Conflict, ValidationFailed
from referral.domain.imports import Person
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    ConsentRecord,
    Customer,
    OutboxMessage,
    Participation,
)
from referral.services import counters, imports
from referral.services.imports import import_people
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.subscriptions import topics_of
from tests.concurrency import race
from tests.factories import Factory

BASIS = "Customers who bought from us (existing contract)"


def count(model: type, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def campaign(factory: Factory) -> Campaign:
    return factory.campaign(status="live")


def people(*addresses: str) -> list[Person]:
    return [Person(address, line=index + 2) for index, address in enumerate(addresses)]


def test_people_are_added_pending_with_a_confirmation_mail_each(campaign: Campaign) -> None:
    result = import_people(
        campaign, people("ann@example.com", "bob@example.org"), BASIS, compose=emails.confirmation
    )
    assert result.counts == {"created": 2, "existing": 0, "error": 0}
    stored = db.session.scalars(select(Participation).order_by(Participation.id)).all()
    assert [p.status for p in stored] == ["pending", "pending"]
    assert {p.channel for p in stored} == {"direct"}
    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.kind, m.to_address) for m in mails] == [
        ("confirmation", "ann@example.com"),
        ("confirmation", "bob@example.org"),
    ]


def test_a_re_run_of_the_same_people_adds_nobody_and_counts_them_as_existing(
    campaign: Campaign,
) -> None:
    batch = people("ann@example.com", "bob@example.org")
    import_people(campaign, batch, BASIS, compose=emails.confirmation)
    again = import_people(
        campaign, people("ANN@example.com", "bob@example.org"), BASIS, compose=emails.confirmation
    )
    assert again.counts == {"created": 0, "existing": 2, "error": 0}
    assert count(Participation) == 2
    assert count(Customer) == 2
    assert count(OutboxMessage) == 2
    assert count(ConsentRecord) == 2


def test_each_bad_row_is_reported_with_its_reason_and_the_others_are_added(
    factory: Factory,
) -> None:
    campaign = factory.campaign(status="live", settings={"disposable_email": "block"})
    result = import_people(
        campaign,
        people("ann@example.com", "not an address", "Ann@Example.com", "x@mailinator.com"),
        BASIS,
    )
    assert [o.result for o in result.outcomes] == ["created", "error", "error", "error"]
    errors = [o.error.errors if o.error else None for o in result.outcomes]
    assert errors[1] is not None and "email" in errors[1]
    assert errors[2] == {"email": ["The same person is on line 2 already."]}
    assert errors[3] == {"email": ["Please use a permanent e-mail address."]}
    assert count(Participation) == 1


def test_the_consent_is_recorded_as_imported_with_the_basis_and_grants_no_marketing(
    campaign: Campaign,
) -> None:
    import_people(campaign, people("ann@example.com"), BASIS, confirmed=True)
    customer = db.session.scalars(select(Customer)).one()
    record = db.session.scalars(select(ConsentRecord)).one()
    assert (record.purpose, record.text, record.page, record.campaign_id) == (
        "imported",
        BASIS,
        "import:csv",
        campaign.id,
    )
    assert MARKETING not in topics_of(customer)
    assert topics_of(customer) == frozenset({"transactional"})


def test_confirmed_people_are_confirmed_at_once_and_get_no_mail(campaign: Campaign) -> None:
    import_people(
        campaign, people("ann@example.com"), BASIS, confirmed=True, compose=emails.confirmation
    )
    participation = db.session.scalars(select(Participation)).one()
    assert participation.status == "confirmed"
    assert participation.confirmed_at is not None
    assert count(OutboxMessage) == 0


def test_the_counters_stay_exact(factory: Factory, campaign: Campaign) -> None:
    advocate = factory.participation(campaign, status="confirmed")
    batch = [
        Person("ann@example.com", line=2, referral_code=advocate.referral_code),
        Person("bob@example.org", line=3),
    ]
    import_people(campaign, batch, BASIS, confirmed=True)
    import_people(campaign, people("carl@example.net"), BASIS)
    assert counters.reconcile_campaign(campaign.id) == []
    counts = counters.campaign_counts(campaign.id)
    assert counts["status:confirmed"] == 3
    assert counts["status:pending"] == 1
    ann = db.session.scalars(
        select(Participation).join(Customer).where(Customer.email == "ann@example.com")
    ).one()
    assert ann.referrer_id == advocate.id


def test_nothing_is_half_imported_when_a_chunk_fails(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 2)
    calls = {"n": 0}
    real_add = counters.add

    def failing_add(deltas: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        real_add(deltas)

    monkeypatch.setattr(counters, "add", failing_add)
    batch = people("a@example.com", "b@example.com", "c@example.com", "d@example.com")
    with pytest.raises(RuntimeError):
        import_people(campaign, batch, BASIS, compose=emails.confirmation)
    db.session.rollback()
    assert calls["n"] == 2
    for model in (Participation, Customer, ConsentRecord, OutboxMessage, AuditEntry):
        assert count(model) == 0, model
    monkeypatch.setattr(counters, "add", real_add)
    assert import_people(campaign, batch, BASIS).counts["created"] == 4
    assert counters.reconcile_campaign(campaign.id) == []


def test_an_import_is_audited_with_its_counts(campaign: Campaign) -> None:
    import_people(
        campaign, people("ann@example.com", "bad"), BASIS, marketer_id=None, actor="api-key:1"
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "participants.imported")
    ).one()
    assert entry.subject == f"campaign:{campaign.id}"
    assert entry.data["created"] == 1 and entry.data["error"] == 1


def test_the_basis_is_required_and_the_campaign_must_be_open(factory: Factory) -> None:
    live = factory.campaign(status="live")
    with pytest.raises(ValidationFailed) as refused:
        import_people(live, people("ann@example.com"), "  ")
    assert "basis" in refused.value.errors
    draft = factory.campaign()
    with pytest.raises(Conflict):
        import_people(draft, people("ann@example.com"), BASIS)
    assert count(Participation) == 0


def test_concurrent_imports_of_the_same_people_add_each_person_once(
    app: Flask, campaign: Campaign
) -> None:
    """Four imports of one list (and a sign-up of one of its people) at once: the unique
    keys of customers and participations decide, every person is in the campaign once and
    counted once, and each import says for each person whether it added them."""
    campaign_id = campaign.id
    db.session.commit()
    addresses = [f"p{n}@example.com" for n in range(30)]
    results: list[dict[str, int]] = []
    signed_up: list[bool] = []

    def work(i: int) -> None:
        live = db.session.get(Campaign, campaign_id)
        assert live is not None
        if i == 4:
            joined = join_campaign(live, JoinRequest(email="p7@example.com"), Visitor())
            signed_up.append(joined.created)
            return
        results.append(import_people(live, people(*addresses[i:] + addresses[:i]), BASIS).counts)

    assert race(app, 5, work) == []
    db.session.rollback()
    assert count(Participation) == 30 and count(Customer) == 30
    created = sum(r["created"] for r in results)
    assert created + signed_up.count(True) == 30
    assert all(r["created"] + r["existing"] == 30 and r["error"] == 0 for r in results)
    assert count(ConsentRecord, ConsentRecord.purpose == "imported") == created
    assert counters.reconcile_campaign(campaign_id) == []
