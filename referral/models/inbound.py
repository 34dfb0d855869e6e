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
