"""Outgoing webhooks: the URLs a workspace registered, and every delivery made to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import parent_key

WEBHOOK_EVENTS = (
    "participant.joined",
    "participant.confirmed",
    "referral.counted",
    "referral.rejected",
    "reward.granted",
    "reward.held",
    "reward.voided",
    "milestone.reached",
    "survey.completed",
    "trial.started",
    "trial.ending",
    "trial.converted",
    "instant_win.played",
    "draw.completed",
    "journey.step",
    "consent.withdrawn",
)
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(WorkspaceScoped, Timestamped, Model):
    """A URL that receives signed POSTs for the events it subscribed to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    # The signing secret must be readable to sign with; it is shown to the owner once.
    secret: Mapped[str] = mapped_column(String(64), nullable=False)
    events: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)


class WebhookDelivery(WorkspaceScoped, Timestamped, Model):
    """One event for one endpoint: written in the transaction that caused it, sent after.

    ``event_key`` names the occurrence (``reward.granted:17``): the same occurrence is queued
    for an endpoint at most once, whatever retries or races happen upstream.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_key"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = parent_key("webhook_endpoints")
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    event_key: Mapped[str] = mapped_column(String(80), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="", nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
