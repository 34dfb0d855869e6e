"""A customer's data: export everything, or erase the person but keep the numbers.

Erasure anonymises: the address (a placeholder keeps the row's unique key), name, locale,
tags, free-text event data and free-text survey answers are removed; consent texts are
kept (proof of what was agreed) but unlinked from any page, address or browser; hashed IPs,
browser and visitor hashes are cleared, and so is the address in queued webhooks. The
participations stay in place with their referral code, referrer, depth and status — a
pseudonymous node — and the ledger lines stay with their amounts, so the spread graph keeps
its shape, other people's rewards and published draws do not change, and neither do the
campaign's totals (DESIGN invariant 6).

Every export and every erasure is recorded in the audit log, in the transaction that makes
it, naming the customer by id only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from referral.extensions import db
from referral.models import (
    Campaign,
    Click,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    OutboxMessage,
    Participation,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    WebhookDelivery,
)
from referral.models.base import utcnow
from referral.models.journey import CustomerTag, Journey, JourneyEnrolment, JourneyStepLog
from referral.services import audit
from referral.services.events import record_event
from referral.services.tx import retry_on_contention

ERASED_DOMAIN = "erased.invalid"
USER_AGENT_MAX = 256
SOURCE_MAX = 500  # the consent row's ``page``: where or how the consent was received
MARKETING = "marketing"


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit log: a marketer in the admin, an API key, or the operator."""

    marketer_id: int | None = None
    label: str = ""
    ip_hash: str | None = None


OPERATOR = Actor(label="operator")


def subject_of(customer: Customer) -> str:
    """How the audit log names a customer: by id, never by address."""
    return f"customer:{customer.id}"


def audit_customer(
    action: str, customer: Customer, by: Actor, data: dict[str, Any] | None = None
) -> None:
    """An audit entry about ``customer`` by ``by``, in the caller's transaction."""
    audit.record(
        action,
        subject_of(customer),
        workspace_id=customer.workspace_id,
        marketer_id=by.marketer_id,
        actor=by.label,
        ip_hash=by.ip_hash,
        data=data,
    )


def clip_user_agent(value: str | None) -> str | None:
    """The User-Agent as a consent row keeps it: at most 256 characters, None when empty."""
    return (value or "")[:USER_AGENT_MAX] or None


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _consents(customer: Customer) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .order_by(ConsentRecord.given_at, ConsentRecord.id)
    )
    return [
        {
            "action": c.action,
            "purpose": c.purpose,
            "text": c.text,
            "version": c.version,
            "source": c.page,
            "user_agent": c.user_agent,
            "recorded_at": _iso(c.given_at),
            "given_at": _iso(c.given_at),
            "withdrawn_at": _iso(c.withdrawn_at),
        }
        for c in rows
    ]


def _participations(participations: list[Participation]) -> list[dict[str, Any]]:
    names = dict(
        db.session.execute(
            select(Campaign.id, Campaign.name).where(
                Campaign.id.in_([p.campaign_id for p in participations])
            )
        ).all()
    )
    return [
        {
            "id": str(p.id),
            "campaign": names.get(p.campaign_id),
            "referral_code": p.referral_code,
            "referrer_id": str(p.referrer_id) if p.referrer_id else None,
            "status": p.status,
            "channel": p.channel,
            "utm": p.utm,
            "locale": p.locale,
            "created_at": _iso(p.created_at),
            "confirmed_at": _iso(p.confirmed_at),
        }
        for p in participations
    ]


def _survey_answers(ids: list[int]) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(SurveyQuestion.prompt, SurveyOption.label, SurveyAnswer, SurveyResponse.created_at)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .where(SurveyResponse.participation_id.in_(ids))
        .order_by(SurveyAnswer.id)
    )
    return [
        {
            "question": prompt,
            "option": label,
            "number": answer.number,
            "text": answer.text,
            "answered_at": _iso(answered_at),
        }
        for prompt, label, answer, answered_at in rows
    ]


def _tags(customer: Customer) -> list[str]:
    rows = db.session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer.id))
    return sorted(rows)


def _profile(customer: Customer) -> dict[str, Any]:
    profile = {
        "id": str(customer.id),
        "email": customer.email_display or None,
        "name": customer.name,
        "locale": customer.locale,
        "timezone": customer.timezone,
        "tags": _tags(customer),
        "created_at": _iso(customer.created_at),
        "erased_at": _iso(customer.erased_at),
    }
    if customer.birthday_month and customer.birthday_day:
        # Month and day only (ISO 8601 --MM-DD), present only when given: no year is stored.
        profile["birthday"] = f"--{customer.birthday_month:02d}-{customer.birthday_day:02d}"
    return profile


def _journeys(customer: Customer) -> list[dict[str, Any]]:
    """Each follow-up journey the customer entered, with every step taken."""
    rows = db.session.execute(
        select(JourneyStepLog, Journey.name)
        .join(Journey, Journey.id == JourneyStepLog.journey_id)
        .where(JourneyStepLog.customer_id == customer.id)
        .order_by(JourneyStepLog.at, JourneyStepLog.id)
    )
    return [
        {
            "journey": name,
            "step": log.step,
            "outcome": log.outcome,
            "at": _iso(log.at),
        }
        for log, name in rows
    ]


def _events(customer: Customer) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Event).where(Event.customer_id == customer.id).order_by(Event.id)
    )
    return [
        {
            "kind": e.kind,
            "amount": e.amount,
            "currency": e.currency,
            "data": e.data,
            "occurred_at": _iso(e.occurred_at),
        }
        for e in rows
    ]


def _rewards(ids: list[int]) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.participation_id.in_(ids)).order_by(LedgerEntry.id)
    )
    return [
        {
            "reward": entry.reward,
            "amount": entry.amount,
            "currency": entry.currency,
            "status": entry.status,
            "level": entry.level,
            "created_at": _iso(entry.created_at),
        }
        for entry in rows
    ]


def _messages(customer: Customer) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.customer_id == customer.id)
        .order_by(OutboxMessage.id)
    )
    return [
        {
            "kind": m.kind,
            "subject": m.subject,
            "status": m.status,
            "created_at": _iso(m.created_at),
        }
        for m in rows
    ]


def customer_document(customer: Customer) -> dict[str, Any]:
    """Everything stored about one customer, as JSON-ready data (an access request).

    After erasure it holds nothing that names or traces the person: no address, name,
    locale, hashes, pages, browsers or free text; what is left are the pseudonymous
    participations, the consent texts and the amounts.
    """
    participations = list(
        db.session.scalars(
            select(Participation)
            .where(Participation.customer_id == customer.id)
            .order_by(Participation.id)
        )
    )
    ids = [p.id for p in participations]
    return {
        "customer": _profile(customer),
        "consents": _consents(customer),
        "participations": _participations(participations),
        "events": _events(customer),
        "rewards": _rewards(ids),
        "survey_answers": _survey_answers(ids),
        "messages": _messages(customer),
        "journeys": _journeys(customer),
    }


@retry_on_contention
def export_customer(customer: Customer, by: Actor = OPERATOR) -> dict[str, Any]:
    """The customer's document (:func:`customer_document`), recorded in the audit log as
    ``customer.exported`` by ``by`` in the same transaction. Every export is recorded, also
    one of an erased customer."""
    document = customer_document(customer)
    audit_customer("customer.exported", customer, by, {"erased": customer.erased_at is not None})
    db.session.commit()
    return document


def _scrub_webhooks(customer: Customer, ids: list[int]) -> None:
    """Queued or logged ``participant.confirmed`` deliveries carry the address: blank it."""
    if not ids:
        return
    keys = [f"participant.confirmed:{pid}" for pid in ids]
    deliveries = db.session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.workspace_id == customer.workspace_id,
            WebhookDelivery.event_key.in_(keys),
        )
    )
    for delivery in deliveries:
        payload = dict(delivery.payload or {})
        data = dict(payload.get("data") or {})
        if isinstance(data.get("participant"), dict):
            data["participant"] = {**data["participant"], "email": None}
        payload["data"] = data
        delivery.payload = payload


def _forget_profile(customer: Customer, now: Any) -> str:
    """Blank the customer row; returns the placeholder address that keeps its unique key."""
    # Digits only: a placeholder can never spell (part of) anybody's name.
    placeholder = f"erased-{secrets.randbelow(10**16):016d}@{ERASED_DOMAIN}"
    customer.email = placeholder  # the unique key of the row; nobody's address
    customer.email_display = ""
    customer.name = ""
    customer.locale = None
    customer.timezone = None
    customer.birthday_month = customer.birthday_day = None
    customer.erased_at = now
    return placeholder


def _anonymise(customer: Customer, now: Any) -> None:
    placeholder = _forget_profile(customer, now)
    ids = list(
        db.session.scalars(select(Participation.id).where(Participation.customer_id == customer.id))
    )
    db.session.execute(
        update(Participation)
        .where(Participation.customer_id == customer.id)
        .values(ip_hash=None, agent_hash=None, visitor_hash=None, utm={}, locale=None)
    )
    if ids:
        db.session.execute(
            update(Click)
            .where(Click.participation_id.in_(ids))
            .values(ip_hash=None, visitor_hash=None, utm={})
        )
        responses = select(SurveyResponse.id).where(SurveyResponse.participation_id.in_(ids))
        db.session.execute(
            update(SurveyAnswer).where(SurveyAnswer.response_id.in_(responses)).values(text=None)
        )
    db.session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .values(ip_hash=None, page="", user_agent=None)
    )
    db.session.execute(update(Event).where(Event.customer_id == customer.id).values(data={}))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.customer_id == customer.id)
        .values(to_address=placeholder, body_text="", body_html="", subject="(erased)")
    )
    _scrub_webhooks(customer, ids)
    _leave_journeys(customer, now)


def _leave_journeys(customer: Customer, now: Any) -> None:
    """Tags go, unfinished journeys end (nothing more is sent), and the step log keeps
    only what happened when: the details (subjects, reasons' data) are blanked."""
    db.session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer.id))
    db.session.execute(
        update(JourneyEnrolment)
        .where(
            JourneyEnrolment.customer_id == customer.id,
            JourneyEnrolment.status.in_(("active", "waiting")),
        )
        .values(status="exited", next_run_at=None, waiting_for=None, claimed_until=None)
    )
    db.session.execute(
        update(JourneyStepLog).where(JourneyStepLog.customer_id == customer.id).values(detail={})
    )


def erase_in_transaction(customer: Customer, by: Actor = OPERATOR) -> bool:
    """:func:`erase_customer` in the caller's transaction (the caller commits): the row is
    locked, and an erased customer changes nothing and records nothing (False)."""
    db.session.refresh(customer, with_for_update=True)
    if customer.erased_at is not None:
        return False
    now = utcnow()
    _anonymise(customer, now)
    record_event(customer.workspace_id, customer, "erased", occurred_at=now)
    audit_customer("customer.erased", customer, by)
    return True


@retry_on_contention
def erase_customer(customer: Customer, by: Actor = OPERATOR) -> bool:
    """Anonymise ``customer`` in one transaction (see the module rule), recorded in the
    audit log as ``customer.erased`` and on the timeline as ``erased``.

    Idempotent: erasing an erased customer changes nothing, records nothing and returns
    False (True when this call erased). The row is locked first, so two concurrent
    erasures do the work once.
    """
    erased = erase_in_transaction(customer, by)
    db.session.commit()
    return erased
