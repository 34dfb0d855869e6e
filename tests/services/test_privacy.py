"""Invariant 6: nothing lost, nothing leaked — export, erasure and hashed IPs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from referral.domain.draws import verify_record
from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    ConsentRecord,
    Customer,
    Draw,
    Event,
    LedgerEntry,
    Participation,
    SurveyAnswer,
    WebhookDelivery,
    Workspace,
)
from referral.models.journey import CustomerTag, JourneyEnrolment, JourneyStepLog
from referral.services import (
    consents,
    draws,
    journey_tags,
    lottery,
    privacy,
    survey_builder,
    surveys,
    webhooks,
)
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.privacy import MARKETING, Actor, erase_customer, export_customer
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


# --- erasure keeps everyone else's numbers; the export after it names nobody ---------------


def _tree_and_ledger(campaign_id: int) -> tuple[list[tuple], list[tuple]]:
    db.session.expire_all()
    tree = db.session.execute(
        select(
            Participation.id,
            Participation.referrer_id,
            Participation.depth,
            Participation.path,
            Participation.status,
            Participation.referral_code,
        )
        .where(Participation.campaign_id == campaign_id)
        .order_by(Participation.id)
    ).all()
    ledger = db.session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.participation_id,
            LedgerEntry.level,
            LedgerEntry.amount,
            LedgerEntry.status,
        ).order_by(LedgerEntry.id)
    ).all()
    return [tuple(r) for r in tree], [tuple(r) for r in ledger]


def test_erasing_an_advocate_leaves_the_tree_and_the_friends_rewards_unchanged(
    factory: Factory,
) -> None:
    """The erased advocate stays a nameless node: the friends keep their referrer, depth and
    path, and every ledger line (the advocate's and the friends') keeps its amount."""
    campaign, advocate, friends = _setup(factory)
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 7})
    grandchild = join_campaign(
        campaign,
        JoinRequest(email="g@example.com", referral_code=friends[0].referral_code, confirmed=True),
    ).participation
    before = _tree_and_ledger(campaign.id)
    assert any(row[1] == grandchild.id for row in before[1])  # someone else's reward exists
    assert erase_customer(db.session.get(Customer, advocate.customer_id)) is True
    assert _tree_and_ledger(campaign.id) == before


def test_a_published_draw_is_unchanged_when_an_entrant_is_erased(factory: Factory) -> None:
    campaign = factory.campaign(kind="lottery")
    campaign = publish_campaign(campaign)
    people = [
        join_campaign(campaign, JoinRequest(email=f"p{n}@example.org", confirmed=True))
        for n in range(5)
    ]
    close_campaign(campaign)
    draw = draws.run_draw(campaign, 2, 1)
    record = json.dumps(draw.record, sort_keys=True)
    entries = [(e.entry_id, e.weight) for e in lottery.frozen_entries(campaign)]
    winner_entry = draw.record["winners"][0]
    winner = next(
        e.participation_id for e in lottery.frozen_entries(campaign) if e.entry_id == winner_entry
    )
    assert winner in {p.participation.id for p in people}
    erase_customer(db.session.get(Customer, db.session.get(Participation, winner).customer_id))
    db.session.expire_all()
    kept = db.session.get(Draw, draw.id)
    assert json.dumps(kept.record, sort_keys=True) == record
    assert [(e.entry_id, e.weight) for e in lottery.frozen_entries(campaign)] == entries
    assert verify_record(kept.record).ok


def test_an_export_after_erasure_holds_nothing_personal(factory: Factory) -> None:
    """No address, name, language, IP hash, visitor or browser hash, page, browser, free
    text or birth data: what stays is pseudonymous."""
    campaign, advocate, _ = _setup(factory)
    customer = db.session.get(Customer, advocate.customer_id)
    kept = db.session.get(Participation, advocate.id)
    hashes = [kept.ip_hash, kept.visitor_hash, kept.agent_hash]
    consent = db.session.scalar(
        select(ConsentRecord).where(ConsentRecord.customer_id == customer.id)
    )
    hashes.append(consent.ip_hash)
    assert all(hashes) and consent.user_agent == "Firefox"
    report_event(campaign, advocate, "purchase", amount=1200, currency="EUR", external_id="o-1")
    webhooks.create_endpoint(
        db.session.get(Workspace, campaign.workspace_id),
        "https://example.com/hook",
        ["participant.confirmed"],
    )
    join_campaign(campaign, JoinRequest(email="later@example.com", name="Later Person"), Visitor())
    before = json.dumps(export_customer(customer))
    assert "ada@example.com" in before and "Ada Lovelace" in before and "Firefox" in before
    erase_customer(customer)
    db.session.expire_all()
    after = json.dumps(export_customer(db.session.get(Customer, customer.id)))
    for personal in ("ada@example.com", "Ada", "Lovelace", "Firefox", "/c/x", "birth", *hashes):
        assert personal not in after, personal
    document = json.loads(after)
    assert document["customer"]["email"] is None and document["customer"]["erased_at"]
    assert document["consents"][0]["text"] == "I agree to the rules"  # the proof stays
    assert document["consents"][0]["source"] == "" and document["consents"][0]["user_agent"] is None
    assert len(document["participations"]) == 1
    assert sum(r["amount"] for r in document["rewards"]) == 300


def test_erasure_blanks_free_text_survey_answers_and_queued_webhook_addresses(
    factory: Factory,
) -> None:
    campaign = factory.campaign(kind="survey", status="live")
    workspace = db.session.get(Workspace, campaign.workspace_id)
    webhooks.create_endpoint(workspace, "https://example.com/hook", ["participant.confirmed"])
    question = survey_builder.add_question(
        campaign, {"kind": "short_text", "prompt": "Why?", "required": True}
    )
    person = join_campaign(
        campaign, JoinRequest(email="sam@example.com", confirmed=True)
    ).participation
    surveys.submit_response(person, {f"q{question.id}": ["Sam from Leeds says hi"]})
    assert db.session.scalar(select(SurveyAnswer.text)) == "Sam from Leeds says hi"
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.payload["data"]["participant"]["email"] == "sam@example.com"
    erase_customer(db.session.get(Customer, person.customer_id))
    db.session.expire_all()
    assert db.session.scalar(select(SurveyAnswer.text)) is None
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 1  # still counted
    payload = db.session.get(WebhookDelivery, delivery.id).payload
    assert payload["data"]["participant"]["email"] is None
    assert payload["data"]["participant"]["referral_code"] == person.referral_code


def test_exports_and_erasures_are_audited_by_id_in_their_own_transaction(
    factory: Factory,
) -> None:
    _, advocate, _ = _setup(factory)
    customer = db.session.get(Customer, advocate.customer_id)
    export_customer(customer, Actor(label="api-key:9"))
    erase_customer(customer, Actor(label="api-key:9"))
    erase_customer(customer, Actor(label="api-key:9"))  # a second time records nothing
    db.session.rollback()
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.subject, AuditEntry.actor, AuditEntry.data)
        .where(AuditEntry.action.like("customer.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert [r[:3] for r in rows] == [
        ("customer.exported", f"customer:{customer.id}", "api-key:9"),
        ("customer.erased", f"customer:{customer.id}", "api-key:9"),
    ]
    assert "ada" not in str(rows)
    timeline = db.session.scalars(
        select(Event.kind).where(Event.customer_id == customer.id, Event.kind == "erased")
    ).all()
    assert timeline == ["erased"]


def test_a_failed_erasure_changes_nothing_and_records_nothing(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, advocate, _ = _setup(factory)
    customer = db.session.get(Customer, advocate.customer_id)

    def broken(*_args: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(privacy, "_scrub_webhooks", broken)
    with pytest.raises(RuntimeError):
        erase_customer(customer)
    db.session.rollback()
    assert db.session.get(Customer, customer.id).email == "ada@example.com"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- consent: user agent, withdrawal ------------------------------------------------------


def test_a_consent_row_keeps_the_user_agent_clipped_to_256_characters(factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    agent = "Mozilla/5.0 " + "x" * 400
    join_campaign(
        campaign,
        JoinRequest(email="ua@example.com", consent_text="Yes", consent_version="1"),
        Visitor(user_agent=agent, page="https://shop.example/c/x"),
    )
    row = db.session.scalar(select(ConsentRecord))
    assert row.user_agent == agent[:256] and row.action == "given"


def test_withdrawing_marketing_consent_appends_a_row_and_keeps_the_given_one(
    factory: Factory,
) -> None:
    campaign = factory.campaign(status="live")
    person = join_campaign(
        campaign,
        JoinRequest(
            email="mia@example.com",
            consent_text="E-mail me offers",
            consent_version="m-2",
            consent_purpose=MARKETING,
        ),
        Visitor(user_agent="Safari"),
    ).participation
    customer = db.session.get(Customer, person.customer_id)
    assert consents.withdraw_consent(
        customer,
        MARKETING,
        "phone",
        by=Actor(marketer_id=None, label="operator"),
        user_agent="Edge",
    )
    assert not consents.withdraw_consent(customer, MARKETING, "mail")  # already withdrawn
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .order_by(ConsentRecord.id)
    ).all()
    assert [(r.action, r.purpose, r.text, r.version) for r in rows] == [
        ("given", MARKETING, "E-mail me offers", "m-2"),
        ("withdrawn", MARKETING, "E-mail me offers", "m-2"),
    ]
    assert rows[0].withdrawn_at is None  # the given row is never rewritten
    assert (rows[1].page, rows[1].user_agent) == ("phone", "Edge")
    assert consents.latest_consent(customer, MARKETING).action == "withdrawn"
    audited = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject == f"customer:{customer.id}")
    ).all()
    assert audited == ["consent.withdrawn"]


def test_a_withdrawal_without_any_consent_is_still_recorded(factory: Factory) -> None:
    customer = factory.customer(factory.workspace())
    assert consents.withdraw_consent(customer, MARKETING, "mail")
    row = db.session.scalar(select(ConsentRecord))
    assert (row.action, row.text, row.page) == ("withdrawn", "", "mail")


@pytest.mark.parametrize(
    ("purpose", "source", "field"), [("spam", "phone", "purpose"), (MARKETING, " ", "source")]
)
def test_a_withdrawal_needs_a_known_purpose_and_a_source(
    factory: Factory, purpose: str, source: str, field: str
) -> None:
    customer = factory.customer(factory.workspace())
    with pytest.raises(ValidationFailed) as refused:
        consents.withdraw_consent(customer, purpose, source)
    assert field in refused.value.messages
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_invariant_6_journeys_and_tags_are_exported_and_erasure_ends_them(shop) -> None:
    """The export shows the journey steps, tags and birthday (month and day); erasure removes
    the tags and the birthday, ends unfinished journeys and blanks the step details."""
    shop.journey(
        [{"id": "pause", "type": "wait", "for": {"days": 1}}, {"id": "end", "type": "exit"}]
    )
    anna = shop.person(birthday_month=2, birthday_day=29)
    customer = db.session.get(Customer, anna.customer_id)
    journey_tags.add_tag(customer, "vip")
    shop.event(anna, "signup_confirmed")
    document = export_customer(customer)
    assert document["customer"]["birthday"] == "--02-29"
    assert document["customer"]["tags"] == ["vip"]
    assert [(s["journey"], s["step"], s["outcome"]) for s in document["journeys"]] == [
        ("Welcome", "pause", "entered")
    ]
    erase_customer(customer)
    db.session.expire_all()
    erased = db.session.get(Customer, customer.id)
    assert (erased.birthday_month, erased.birthday_day) == (None, None)
    assert db.session.scalar(select(func.count()).select_from(CustomerTag)) == 0
    enrolment = db.session.scalar(select(JourneyEnrolment))
    assert (enrolment.status, enrolment.next_run_at) == ("exited", None)
    assert all(log.detail == {} for log in db.session.scalars(select(JourneyStepLog)))
    after = export_customer(erased)
    assert after["customer"]["tags"] == [] and "birthday" not in after["customer"]
