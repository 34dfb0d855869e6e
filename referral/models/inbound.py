"""Inbound webhooks: a workspace's receivers of payment providers' events (Stripe, Shopify)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, WorkspaceScoped
from referral.models.keys import optional_key

PROVIDERS = ("stripe", "shopify")


class InboundHook(WorkspaceScoped, Timestamped, Model):
    """Where a provider posts its events (``/hooks/<provider>/<key>``) and the secret their
    signature is checked with; purchases and refunds land in ``campaign_id`` when set."""

    __tablename__ = "inbound_hooks"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider"),
        CheckConstraint("provider IN ('stripe', 'shopify')", name="provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    # The public part of the receiver's address; the secret proves a post came from the provider.
    key: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    # Needed in clear to check signatures; shown masked in the admin.
    secret: Mapped[str] = mapped_column(String(200), nullable=False)
    campaign_id: Mapped[int | None] = optional_key("campaigns")


RECEIPT_STATUSES = ("recorded", "ignored")


class InboundReceipt(WorkspaceScoped, Timestamped, Model):
    """One provider event received and checked: the provider's id for it (Stripe's event id,
    Shopify's ``X-Shopify-Webhook-Id``) is unique per workspace and provider, so a delivery
    sent again, also concurrently, is acted on once. ``status`` says whether it put an
    event on a timeline (``event_id``) or was left alone, and ``reason`` why."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider", "delivery_id"),
        CheckConstraint("status IN ('recorded', 'ignored')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    delivery_id: Mapped[str] = mapped_column(String(100), nullable=False)
    topic: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    event_id: Mapped[int | None] = optional_key("events")
