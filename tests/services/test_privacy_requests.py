"""A customer's own privacy requests: the mailed single-use, expiring links to download or
erase their data, what the links do, and what the audit log shows of them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral import emails
from referral.domain.draws import verify_record
from referral.domain.errors import NotFound, ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Customer,
    Draw,
    LedgerEntry,
    OutboxMessage,
    Participation,
    PrivacyRequest,
)
from referral.models.base import utcnow
from referral.services import draws, lottery, privacy_requests
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.joining import JoinRequest, join_campaign
from referral.services.privacy_requests import ERASURE, EXPORT, LinkExpired, LinkUsed
from referral.services.rules import add_rule
from tests.factories import Factory

LINK = re.compile(r"/privacy/link/([A-Za-z0-9_-]+)")


def _join(campaign, email: str, name: str = "", code: str | None = None) -> Participation:
    return join_campaign(
        campaign,
        JoinRequest(
            email=email,
            name=name,
            referral_code=code,
            confirmed=True,
            consent_text="I agree to the rules",
            consent_version="3",
        ),
    ).participation


def _ask(workspace_id: int, address: str, kind: str) -> str | None:
    """Ask for a link and return the token mailed (None when nothing was mailed)."""
    before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    privacy_requests.request_link(workspace_id, address, kind, emails.privacy_link, ip_hash="h")
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
    ).first()
    if message is None:
        return None
    found = LINK.search(message.body_text)
    assert found is not None
    assert LINK.search(message.body_html)
    return found.group(1)


def _audit(workspace_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.subject)
        .where(AuditEntry.workspace_id == workspace_id)
        .order_by(AuditEntry.id)
    )
    return [tuple(r) for r in rows]


def _setup(factory: Factory):
    campaign = factory.campaign(status="live")
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    ada = _join(campaign, "Ada.Lovelace@example.com", "Ada Lovelace")
    friends = [_join(campaign, f"f{i}@example.com", code=ada.referral_code) for i in range(2)]
    return campaign, ada, friends


def test_an_export_link_is_mailed_to_the_address_and_only_its_hash_is_stored(
    factory: Factory,
) -> None:
    campaign, ada, _friends = _setup(factory)
    token = _ask(campaign.workspace_id, "Ada.Lovelace@EXAMPLE.com ", EXPORT)
    assert token is not None
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "privacy:export")
    ).one()
    assert message.to_address == "ada.lovelace@example.com"
    assert message.customer_id == ada.customer_id
    row = db.session.scalars(select(PrivacyRequest)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    assert row.kind == EXPORT and row.used_at is None
    assert row.expires_at - row.created_at == timedelta(hours=24)


def test_an_unknown_or_erased_address_gets_no_mail_and_the_same_answer(factory: Factory) -> None:
    campaign, ada, _friends = _setup(factory)
    other = factory.campaign(status="live")
    _join(other, "bob@example.com")
    assert (
        privacy_requests.request_link(
            campaign.workspace_id, "nobody@example.com", EXPORT, emails.privacy_link
        )
        is False
    )
    # Bob is a customer of another workspace: unknown here.
    assert _ask(campaign.workspace_id, "bob@example.com", ERASURE) is None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind.like("privacy:%"))
        )
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_a_malformed_address_or_kind_is_refused(factory: Factory) -> None:
    campaign, _ada, _friends = _setup(factory)
    with pytest.raises(ValidationFailed) as bad_address:
        privacy_requests.request_link(
            campaign.workspace_id, "not-an-address", EXPORT, emails.privacy_link
        )
    assert "email" in bad_address.value.errors
    with pytest.raises(ValidationFailed):
        privacy_requests.request_link(
            campaign.workspace_id, "ada.lovelace@example.com", "delete", emails.privacy_link
        )
    assert db.session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_the_export_link_downloads_everything_once(factory: Factory) -> None:
    campaign, ada, _friends = _setup(factory)
    token = _ask(campaign.workspace_id, "ada.lovelace@example.com", EXPORT)
    assert token is not None
    opened = privacy_requests.open_link(token)
    assert opened.request.kind == EXPORT and opened.customer.id == ada.customer_id
    _opened, document = privacy_requests.download(token)
    assert document["customer"]["email"] == "ada.lovelace@example.com"
    assert document["customer"]["name"] == "Ada Lovelace"
    assert document["consents"][0]["text"] == "I agree to the rules"
    assert [p["referral_code"] for p in document["participations"]] == [ada.referral_code]
    assert sorted(r["amount"] for r in document["rewards"]) == [100, 100]
    assert "privacy:export" in [m["kind"] for m in document["messages"]]
    json.dumps(document)  # JSON-ready
    with pytest.raises(LinkUsed):
        privacy_requests.download(token)
    with pytest.raises(LinkUsed):
        privacy_requests.open_link(token)


def test_an_expired_link_does_nothing(factory: Factory) -> None:
    campaign, ada, _friends = _setup(factory)
    token = _ask(campaign.workspace_id, "ada.lovelace@example.com", ERASURE)
    assert token is not None
    row = db.session.scalars(select(PrivacyRequest)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(LinkExpired):
        privacy_requests.open_link(token)
    with pytest.raises(LinkExpired):
        privacy_requests.erase(token)
    db.session.expire_all()
    customer = db.session.get(Customer, ada.customer_id)
    assert customer.erased_at is None and customer.name == "Ada Lovelace"
    assert db.session.get(PrivacyRequest, row.id).used_at is None


def test_an_unknown_token_or_the_wrong_kind_is_not_found(factory: Factory) -> None:
    campaign, _ada, _friends = _setup(factory)
    export = _ask(campaign.workspace_id, "ada.lovelace@example.com", EXPORT)
    erasure = _ask(campaign.workspace_id, "ada.lovelace@example.com", ERASURE)
    assert export and erasure
    with pytest.raises(NotFound):
        privacy_requests.open_link("no-such-token")
    with pytest.raises(NotFound):
        privacy_requests.erase(export)
    with pytest.raises(NotFound):
        privacy_requests.download(erasure)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(PrivacyRequest)
            .where(PrivacyRequest.used_at.is_not(None))
        )
        == 0
    )


def _tree_and_ledger(campaign_id: int):
    tree = db.session.execute(
        select(Participation.id, Participation.referrer_id, Participation.depth, Participation.path)
        .where(Participation.campaign_id == campaign_id)
        .order_by(Participation.id)
    ).all()
    ledger = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.participation_id, LedgerEntry.amount).order_by(
            LedgerEntry.id
        )
    ).all()
    return [tuple(r) for r in tree], [tuple(r) for r in ledger]


def test_the_erasure_link_erases_once_and_keeps_the_others_rewards(factory: Factory) -> None:
    campaign, ada, friends = _setup(factory)
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 7})
    grandchild = _join(campaign, "g@example.com", code=friends[0].referral_code)
    before = _tree_and_ledger(campaign.id)
    assert any(row[1] == grandchild.id for row in before[1])  # someone else's reward
    export = _ask(campaign.workspace_id, "ada.lovelace@example.com", EXPORT)
    token = _ask(campaign.workspace_id, "ada.lovelace@example.com", ERASURE)
    assert export and token
    privacy_requests.erase(token)
    db.session.expire_all()
    customer = db.session.get(Customer, ada.customer_id)
    assert customer.erased_at is not None
    assert customer.name == "" and customer.email_display == ""
    assert "ada" not in customer.email.lower()
    assert _tree_and_ledger(campaign.id) == before
    # The mailed links are blanked with the rest of her mail, and no link works any more.
    bodies = db.session.scalars(
        select(OutboxMessage.body_text).where(OutboxMessage.customer_id == ada.customer_id)
    ).all()
    assert not any("privacy/link" in body for body in bodies)
    for used in (token, export):
        with pytest.raises(LinkUsed):
            privacy_requests.open_link(used)
    with pytest.raises(LinkUsed):
        privacy_requests.erase(token)
    # Her address is unknown now: asking again mails nothing.
    assert _ask(campaign.workspace_id, "ada.lovelace@example.com", EXPORT) is None


def test_a_published_draw_is_unchanged_when_a_winner_erases_themselves(factory: Factory) -> None:
    campaign = publish_campaign(factory.campaign(kind="lottery"))
    for n in range(5):
        _join(campaign, f"p{n}@example.org")
    close_campaign(campaign)
    draw = draws.run_draw(campaign, 2, 1)
    record = json.dumps(draw.record, sort_keys=True)
    entries = [(e.entry_id, e.weight) for e in lottery.frozen_entries(campaign)]
    winner_entry = draw.record["winners"][0]
    winner = next(
        e.participation_id for e in lottery.frozen_entries(campaign) if e.entry_id == winner_entry
    )
    customer = db.session.get(Customer, db.session.get(Participation, winner).customer_id)
    token = _ask(campaign.workspace_id, customer.email_display, ERASURE)
    assert token is not None
    privacy_requests.erase(token)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).erased_at is not None
    kept = db.session.get(Draw, draw.id)
    assert json.dumps(kept.record, sort_keys=True) == record
    assert [(e.entry_id, e.weight) for e in lottery.frozen_entries(campaign)] == entries
    assert verify_record(kept.record).ok


def test_the_audit_log_shows_each_step_by_id_without_addresses(factory: Factory) -> None:
    campaign, ada, _friends = _setup(factory)
    ws = campaign.workspace_id
    subject = f"customer:{ada.customer_id}"
    export = _ask(ws, "ada.lovelace@example.com", EXPORT)
    assert export is not None
    privacy_requests.download(export)
    _ask(ws, "stranger@example.net", ERASURE)
    erasure = _ask(ws, "ada.lovelace@example.com", ERASURE)
    assert erasure is not None
    privacy_requests.erase(erasure)
    steps = [row for row in _audit(ws) if row[0].startswith(("privacy.", "customer."))]
    assert steps == [
        ("privacy.export.requested", subject),
        ("privacy.export.mailed", subject),
        ("customer.exported", subject),
        ("privacy.export.completed", subject),
        ("privacy.erasure.requested", "customer:unknown"),
        ("privacy.erasure.requested", subject),
        ("privacy.erasure.mailed", subject),
        ("customer.erased", subject),
        ("privacy.erasure.completed", subject),
    ]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.workspace_id == ws).order_by(AuditEntry.id)
    ).all()
    text = json.dumps([[e.subject, e.actor, e.data] for e in entries], ensure_ascii=False).lower()
    assert "lovelace" not in text and "stranger@" not in text
    assert "s…@example.net" in text
    assert all(e.actor == "customer" for e in entries if e.action.startswith("privacy."))
