"""Consent: what a customer agreed to and when they took it back.

The record is append-only. A consent given is a row with ``action="given"`` (written when
the person joins, see ``joining.join_campaign``); a withdrawal is a row of its own with
``action="withdrawn"``, so the history shows both, in order, and nothing is ever rewritten.
Each row keeps where or how it was received (``page``: the landing page's address, or
``api``, ``phone``, ``mail``) and the User-Agent of the request that wrote it, clipped.
"""

from __future__ import annotations

from sqlalchemy import select

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.models import ConsentRecord, Customer
from referral.models.base import utcnow
from referral.services import webhooks
from referral.services.privacy import (
    MARKETING,
    OPERATOR,
    SOURCE_MAX,
    Actor,
    audit_customer,
    clip_user_agent,
)
from referral.services.tx import atomic

BIRTHDAY = "birthday"  # the birthday topic's own opt-in (domain.consent_topics)

# How a marketer may have received a withdrawal.
WITHDRAWAL_SOURCES = ("phone", "mail", "email", "in_person")
PURPOSES = (MARKETING, BIRTHDAY, "campaign_terms")


def latest_consent(customer: Customer, purpose: str) -> ConsentRecord | None:
    """The newest row (given or withdrawn) for ``purpose``: it says what holds now."""
    return db.session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


def _checked_source(purpose: str, source: str) -> str:
    """The source, trimmed and clipped.

    :raise ValidationFailed: an unknown purpose or an empty source.
    """
    if purpose not in PURPOSES:
        raise ValidationFailed.on("purpose", N_("Choose what the consent was for."))
    source = (source or "").strip()[:SOURCE_MAX]
    if not source:
        raise ValidationFailed.on("source", N_("Say how the customer asked."))
    return source


def _withdrawal(
    customer: Customer,
    purpose: str,
    latest: ConsentRecord | None,
    source: str,
    user_agent: str | None,
) -> ConsentRecord:
    """The withdrawal row, repeating the text and version of ``latest`` (empty without)."""
    now = utcnow()
    return ConsentRecord(
        customer_id=customer.id,
        campaign_id=latest.campaign_id if latest else None,
        purpose=purpose,
        text=latest.text if latest else "",
        version=latest.version if latest else "",
        page=source,
        given_at=now,
        withdrawn_at=now,
        action="withdrawn",
        user_agent=clip_user_agent(user_agent),
    )


def _queue_webhook(customer: Customer, row: ConsentRecord) -> None:
    """Queue ``consent.withdrawn`` for the new withdrawal row (in its transaction)."""
    db.session.flush()  # the row's id names the occurrence
    data = {
        "customer_id": str(customer.id),
        "purpose": row.purpose,
        "source": row.page,
        "campaign_id": str(row.campaign_id) if row.campaign_id else None,
        "withdrawn_at": row.given_at.isoformat(),
    }
    key = f"consent.withdrawn:{row.id}"
    webhooks.enqueue(customer.workspace_id, "consent.withdrawn", key, {"consent": data})


@atomic
def withdraw_consent(
    customer: Customer,
    purpose: str,
    source: str,
    *,
    by: Actor = OPERATOR,
    user_agent: str | None = None,
) -> bool:
    """Record that ``customer`` withdrew their consent for ``purpose``, received by
    ``source`` (``phone``, ``mail``, …); True when a row was written.

    The withdrawal row repeats the text and version of the latest consent given for that
    purpose, so the history shows what was taken back; with none given it records the
    objection all the same, with empty text. When the latest row is already a withdrawal
    nothing is written (a second click records nothing twice). Audited as
    ``consent.withdrawn`` in the same transaction; called inside another unit of work it
    joins it (``tx.atomic``).

    :raise ValidationFailed: an unknown purpose or an empty source.
    """
    source = _checked_source(purpose, source)
    db.session.refresh(customer, with_for_update=True)  # one withdrawal at a time
    latest = latest_consent(customer, purpose)
    if latest is not None and latest.action == "withdrawn":
        return False
    row = _withdrawal(customer, purpose, latest, source, user_agent)
    db.session.add(row)
    _queue_webhook(customer, row)
    audit_customer("consent.withdrawn", customer, by, {"purpose": purpose, "source": source})
    return True
