"""Customers (people known to a workspace) and the consent they gave."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key


class Customer(WorkspaceScoped, Timestamped, Model):
    """One person per normalised e-mail address in a workspace.

    ``email`` is the identity key (see ``domain.emails.normalise_email``); ``email_display``
    is what the person typed, used to write to them. Erasure blanks both, keeps the row.
    """

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    email_display: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    locale: Mapped[str | None] = mapped_column(String(16))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The IANA time zone journeys use for local hours (None: the campaign's, else UTC).
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Month and day only, given with the birthday opt-in: a year is never stored.
    birthday_month: Mapped[int | None] = mapped_column(SmallInteger)
    birthday_day: Mapped[int | None] = mapped_column(SmallInteger)

    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="customer", order_by="ConsentRecord.given_at"
    )


class ConsentRecord(Model):
    """What a customer agreed to, word for word, where and when (append-only)."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = parent_key("customers")
    campaign_id: Mapped[int | None] = optional_key("campaigns")
    purpose: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    page: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "given" or "withdrawn": a withdrawal is a row of its own, so the record stays append-only.
    action: Mapped[str] = mapped_column(
        String(16), default="given", server_default="given", nullable=False
    )
    user_agent: Mapped[str | None] = mapped_column(String(256))

    customer: Mapped[Customer] = relationship(back_populates="consents")
