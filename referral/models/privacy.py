"""A customer's own privacy requests: a copy of their data, or their erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import parent_key

PRIVACY_KINDS = ("export", "erasure")


class PrivacyRequest(WorkspaceScoped, Timestamped, Model):
    """A link mailed to a customer's own address to download their data (``export``) or to
    erase it (``erasure``): single use, expiring; only its SHA-256 is stored."""

    __tablename__ = "privacy_requests"
    __table_args__ = (CheckConstraint("kind IN ('export', 'erasure')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = parent_key("customers")
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
