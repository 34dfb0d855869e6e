"""Counters kept beside the rows they count: clicks, sign-ups and referrals, in slots."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model

COUNTER_SLOTS = 16


class Counter(Model):
    """One slot of one count: a campaign's (``participation_id`` 0) or a participation's.

    A count is the sum of its slots. Writers add to one slot with ``INSERT … ON CONFLICT
    DO UPDATE SET value = value + …``, each writer thread on its own slot, so concurrent
    writers rarely wait on the same row (``services.counters``). A slot may go below zero
    (a sign-up counted as pending in one slot and as confirmed from another); the sum never
    does. ``participation_id`` is 0 rather than NULL for a campaign's own counters: NULLs
    are never equal in a unique key, so an upsert could not find the row.
    """

    __tablename__ = "counters"
    __table_args__ = (
        CheckConstraint(f"slot BETWEEN 0 AND {COUNTER_SLOTS - 1}", name="slot_range"),
        CheckConstraint("participation_id >= 0", name="participation_or_campaign"),
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    participation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
