"""Campaigns and their reward rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped, utcnow
from referral.models.keys import parent_key

KINDS = ("referral", "lottery", "survey", "trial", "instant_win")
STATUSES = ("draft", "live", "closed")
REWARDS = ("points", "entries", "coupon", "cash")


class Campaign(WorkspaceScoped, Timestamped, Model):
    """A landing page with one engagement, a referral programme and reward rules."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('referral', 'lottery', 'survey', 'trial', 'instant_win')", name="kind"
        ),
        CheckConstraint("status IN ('draft', 'live', 'closed')", name="status"),
        CheckConstraint("reward_depth BETWEEN 0 AND 3", name="reward_depth_range"),
        CheckConstraint("attribution_days BETWEEN 1 AND 365", name="attribution_days_range"),
        CheckConstraint("hold_days BETWEEN 0 AND 365", name="hold_days_range"),
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="dates"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="draft", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locales: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    reward_depth: Mapped[int] = mapped_column(default=1, nullable=False)
    attribution_days: Mapped[int] = mapped_column(default=30, nullable=False)
    hold_days: Mapped[int] = mapped_column(default=0, nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # The events the workspace's active webhook endpoints subscribe to, kept by
    # services.webhooks: the sign-up path reads it with the campaign instead of the endpoints.
    webhook_events: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]", nullable=False
    )
    # The sites (origins such as ``https://shop.example.com``) whose pages may frame the
    # campaign's widgets (``/embed/<slug>/<kind>``, see referral/public/embed.py).
    embed_origins: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]", nullable=False
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    rules: Mapped[list[RewardRule]] = relationship(
        back_populates="campaign", order_by="RewardRule.id", cascade="all, delete-orphan"
    )


class RewardRule(Timestamped, Model):
    """On event kind K (or at a milestone of N confirmed referrals) pay level L an amount.

    Exactly one of ``event`` and ``milestone`` is set. The depth cap is checked when the rule
    is saved (service) and again when it pays; the database bounds ``level`` to 0..3.
    """

    __tablename__ = "reward_rules"
    __table_args__ = (
        CheckConstraint("level BETWEEN 0 AND 3", name="level_range"),
        CheckConstraint("reward IN ('points', 'entries', 'coupon', 'cash')", name="reward"),
        CheckConstraint("amount >= 0", name="amount_nonnegative"),
        CheckConstraint(
            "(event IS NULL AND milestone IS NOT NULL AND milestone > 0)"
            " OR (event IS NOT NULL AND milestone IS NULL)",
            name="event_xor_milestone",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    event: Mapped[str | None] = mapped_column(String(32))
    milestone: Mapped[int | None] = mapped_column()
    level: Mapped[int] = mapped_column(nullable=False)
    reward: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True, nullable=False)

    campaign: Mapped[Campaign] = relationship(back_populates="rules")
