"""Events: the customer's timeline, the service's memory of the conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key

EVENT_KINDS = (
    "entered",
    "signup_confirmed",
    "referral_confirmed",
    "milestone_reached",
    "clicked",
    "survey_completed",
    "lottery_entered",
    "trial_started",
    "trial_ending",
    "trial_converted",
    "instant_win_played",
    "purchase",
    "refund",
    "reward_granted",
    "message_sent",
    "erased",
)


class Event(WorkspaceScoped, Timestamped, Model):
    """Something a customer did or that happened to them.

    ``external_id`` de-duplicates reports from integrators: the same (campaign, kind,
    external_id) is stored once, so the same purchase reported twice pays once.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind", "external_id"),
        Index("ix_events_customer_time", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = parent_key("customers", index=False)
    campaign_id: Mapped[int | None] = optional_key("campaigns", ondelete="CASCADE", index=True)
    participation_id: Mapped[int | None] = optional_key(
        "participations", ondelete="CASCADE", index=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    amount: Mapped[int | None] = mapped_column()
    currency: Mapped[str | None] = mapped_column(String(3))
    external_id: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
