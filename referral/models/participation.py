"""Participations (a customer inside one campaign) and clicks on referral links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.models import partitions
from referral.models.base import Model, Timestamped, UTCDateTime
from referral.models.keys import parent_key

PARTICIPATION_STATUSES = ("pending", "confirmed", "flagged", "rejected")


class Participation(Timestamped, Model):
    """A customer inside one campaign: code, referrer, depth and ancestor path.

    DESIGN invariant 1 (a forest, never a cycle) is held by the database itself:
    - the referrer belongs to the same campaign (composite foreign key on campaign_id);
    - the referrer existed before (``referrer_id < id``: ids only grow), which also makes a
      cycle impossible;
    - one participation per customer per campaign.
    The referrer is never rewritten after creation (enforced on flush, below). Not being the
    same customer is checked by the attribution service before insert.
    """

    __tablename__ = "participations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        UniqueConstraint("id", "campaign_id", name="uq_participations_id_campaign"),
        ForeignKeyConstraint(
            ["referrer_id", "campaign_id"],
            ["participations.id", "participations.campaign_id"],
            name="fk_participations_referrer_same_campaign",
        ),
        CheckConstraint("referrer_id IS NULL OR referrer_id < id", name="referrer_before"),
        CheckConstraint(
            "(referrer_id IS NULL AND depth = 0) OR (referrer_id IS NOT NULL AND depth > 0)",
            name="depth_matches_referrer",
        ),
        CheckConstraint("status IN ('pending', 'confirmed', 'flagged', 'rejected')", name="status"),
        # The fraud count of a sign-up (services/fraud_signals): the same hashed address and
        # browser in the same campaign over the last day, read through this index alone.
        Index("ix_participations_device", "ip_hash", "campaign_id", "agent_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # active_history: the old value is loaded before a change, so the guard below sees it
    # even when the attribute was expired by a commit.
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
        active_history=True,
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
        active_history=True,
    )
    referrer_id: Mapped[int | None] = mapped_column(index=True, active_history=True)
    depth: Mapped[int] = mapped_column(default=0, nullable=False, active_history=True)
    # Ancestor ids root-first, "/12/40/": subtree queries are a prefix match.
    path: Mapped[str] = mapped_column(
        String(2000), default="/", nullable=False, active_history=True
    )
    referral_code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    channel: Mapped[str] = mapped_column(String(32), default="direct", nullable=False)
    utm: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    referral_status: Mapped[str] = mapped_column(String(32), default="none", nullable=False)
    flag_reasons: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    # Keyed hashes (never the raw values) to spot duplicates and self-referrals.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    agent_hash: Mapped[str | None] = mapped_column(String(64))
    visitor_hash: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    campaign = relationship("Campaign")


@event.listens_for(Participation, "before_update")
def _referrer_is_immutable(mapper: Any, connection: Any, target: Participation) -> None:
    state = inspect(target)
    for name in ("referrer_id", "campaign_id", "customer_id", "depth", "path"):
        history = state.attrs[name].history
        if history.has_changes() and history.deleted and history.deleted[0] is not None:
            raise ValueError(f"participation.{name} is fixed at creation")


class Click(Model):
    """A visit through a referral link or QR code. The IP is kept only as a keyed hash.

    Append-only and the fastest-growing table: partitioned by month of ``created_at`` on
    PostgreSQL (``models/partitions.py``), so old months are dropped whole.
    """

    __tablename__ = "clicks"
    __table_args__ = partitions.by_month("created_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    participation_id: Mapped[int] = parent_key("participations")
    channel: Mapped[str] = mapped_column(String(32), default="link", nullable=False)
    utm: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    visitor_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


partitions.register(Click.__table__)
