"""Outgoing messages, single-use confirmation tokens, and the API's idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key


class OutboxMessage(WorkspaceScoped, Timestamped, Model):
    """An e-mail to a customer. Written in the same transaction as what caused it, sent after
    (by the SMTP sender when MAIL_URL is set, otherwise only logged): nothing is lost when the
    mail server is down, and nothing is sent for a change that rolled back."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'logged', 'failed', 'undeliverable')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = optional_key("customers", index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="queued", nullable=False)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    error: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not before this time: the back-off after a failure, or the lease of a send under way.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Names the cause of a message that must be queued once however often its cause is
    # processed (``journey:<enrolment>:<step>:<visit>``); None for the others.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True, index=True)


class ConfirmationToken(Timestamped, Model):
    """A double opt-in token: single use, expiring; only its SHA-256 is stored."""

    __tablename__ = "confirmation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = parent_key("participations")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(WorkspaceScoped, Timestamped, Model):
    """The first answer to a POST with an ``Idempotency-Key``, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(nullable=False)
    body: Mapped[Any] = mapped_column(JSON, nullable=True)
    # "host:pid" of the worker that holds an unanswered claim (see services/idempotency.py).
    owner: Mapped[str | None] = mapped_column(String(120))


class CouponCode(Timestamped, Model):
    """A marketer-uploaded coupon code; handed out once, to one ledger entry."""

    __tablename__ = "coupon_codes"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    ledger_entry_id: Mapped[int | None] = optional_key("ledger_entries", unique=True)


class AuditEntry(Timestamped, Model):
    """Who did what, to what, with which outcome: review decisions, exports, erasures and
    security events (sign-ins, refusals, key use). ``workspace_id`` is empty only for events
    that belong to no workspace yet, such as a failed sign-in to an unknown account.

    Never holds a password, a token, a full e-mail address or a birth date; ``actor`` names
    who acted without those (a marketer's id, ``api-key:3``, a masked address)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int | None] = optional_key("workspaces", ondelete="CASCADE", index=True)
    actor: Mapped[str] = mapped_column(String(120), default="", server_default="", nullable=False)
    outcome: Mapped[str] = mapped_column(
        String(16), default="ok", server_default="ok", nullable=False
    )
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    marketer_id: Mapped[int | None] = optional_key("marketers")
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
