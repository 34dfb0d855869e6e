"""The reward ledger: append-only lines, each tied to its source event, level and rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime

LEDGER_STATUSES = ("pending", "approved", "void")


class LedgerEntry(Timestamped, Model):
    """One reward to one participation.

    DESIGN invariant 3 (pay once) lives in the unique key on (source event, beneficiary,
    level, rule): a second insert of the same payment fails in the database, also when two
    requests race.

    A journey's grant step pays without a rule: its ``source_key``
    (``journey:<enrolment>:<step>:<visit>``) is unique instead, and such a line is always
    level 0 (a journey never pays up the chain), as the database checks.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("source_event_id", "participation_id", "level", "rule_id"),
        CheckConstraint("level BETWEEN 0 AND 3", name="level_range"),
        CheckConstraint("reward IN ('points', 'entries', 'coupon', 'cash')", name="reward"),
        CheckConstraint("status IN ('pending', 'approved', 'void')", name="status"),
        CheckConstraint(
            "rule_id IS NOT NULL OR (source_key IS NOT NULL AND level = 0)", name="rule_or_grant"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(
        ForeignKey("participations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    source_event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True, nullable=False
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("reward_rules.id", ondelete="CASCADE"), index=True
    )
    source_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    level: Mapped[int] = mapped_column(nullable=False)
    reward: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    reason: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    approve_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
