"""A customer's data: export everything, or erase the person but keep the numbers.

Erasure anonymises: name, addresses, locale, tags and free-text event data are removed,
consent texts are kept (proof of what was agreed) but unlinked from any address, hashed IPs
and browser hashes are cleared. The participations stay in place with their referrer, depth
and status, and the ledger lines stay with their amounts, so the spread graph keeps its shape
and the campaign's totals do not change.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Click,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Marketer,
    OutboxMessage,
    Participation,
)
from referral.models.base import utcnow

ERASED_DOMAIN = "erased.invalid"


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_customer(customer: Customer) -> dict[str, Any]:
    """Everything stored about one customer, as JSON-ready data (access requests)."""
    participations = list(
        db.session.scalars(
            select(Participation)
            .where(Participation.customer_id == customer.id)
            .order_by(Participation.id)
        )
    )
    ids = [p.id for p in participations]
    campaigns = {
        c.id: c
        for c in db.session.scalars(
            select(Campaign).where(Campaign.id.in_([p.campaign_id for p in participations]))
        )
    }
    return {
        "customer": {
            "id": str(customer.id),
            "email": customer.email_display,
            "name": customer.name,
            "locale": customer.locale,
            "tags": customer.tags,
            "created_at": _iso(customer.created_at),
            "erased_at": _iso(customer.erased_at),
        },
        "consents": [
            {
                "purpose": c.purpose,
                "text": c.text,
                "version": c.version,
                "page": c.page,
                "given_at": _iso(c.given_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in db.session.scalars(
                select(ConsentRecord).where(ConsentRecord.customer_id == customer.id)
            )
        ],
        "participations": [
            {
                "id": str(p.id),
                "campaign": campaigns[p.campaign_id].name,
                "referral_code": p.referral_code,
                "referrer_id": str(p.referrer_id) if p.referrer_id else None,
                "status": p.status,
                "channel": p.channel,
                "utm": p.utm,
                "created_at": _iso(p.created_at),
                "confirmed_at": _iso(p.confirmed_at),
            }
            for p in participations
        ],
        "events": [
            {
                "kind": e.kind,
                "amount": e.amount,
                "currency": e.currency,
                "data": e.data,
                "occurred_at": _iso(e.occurred_at),
            }
            for e in db.session.scalars(
                select(Event).where(Event.customer_id == customer.id).order_by(Event.id)
            )
        ],
        "rewards": [
            {
                "reward": entry.reward,
                "amount": entry.amount,
                "status": entry.status,
                "level": entry.level,
                "created_at": _iso(entry.created_at),
            }
            for entry in db.session.scalars(
                select(LedgerEntry).where(LedgerEntry.participation_id.in_(ids))
            )
        ],
        "messages": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "status": m.status,
                "created_at": _iso(m.created_at),
            }
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.customer_id == customer.id)
            )
        ],
    }


def erase_customer(customer: Customer, marketer: Marketer | None = None) -> Customer:
    """Anonymise ``customer`` in one transaction (see the module rule); idempotent."""
    if customer.erased_at is not None:
        return customer
    placeholder = f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"
    customer.email = customer.email_display = placeholder
    customer.name = ""
    customer.locale = None
    customer.tags = []
    customer.erased_at = utcnow()
    ids = select(Participation.id).where(Participation.customer_id == customer.id)
    db.session.execute(
        update(Participation)
        .where(Participation.customer_id == customer.id)
        .values(ip_hash=None, agent_hash=None, visitor_hash=None, utm={}, locale=None)
    )
    db.session.execute(
        update(Click).where(Click.participation_id.in_(ids)).values(ip_hash=None, visitor_hash=None)
    )
    db.session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .values(ip_hash=None, page="")
    )
    db.session.execute(update(Event).where(Event.customer_id == customer.id).values(data={}))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.customer_id == customer.id)
        .values(to_address=placeholder, body_text="", body_html="", subject="(erased)")
    )
    db.session.add(
        AuditEntry(
            workspace_id=customer.workspace_id,
            marketer_id=marketer.id if marketer else None,
            action="customer.erase",
            subject=f"customer:{customer.id}",
            data={},
        )
    )
    db.session.commit()
    return customer
