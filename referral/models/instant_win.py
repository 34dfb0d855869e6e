"""Instant-win game: the prize table (odds and inventory) and the log of every play."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, WorkspaceScoped
from referral.models.keys import optional_key, parent_key


class InstantWinPrize(Timestamped, Model):
    """A prize of an instant-win campaign: its chance per play, in parts per million, and
    its stock. ``remaining`` only goes down through a conditional UPDATE (``remaining > 0``),
    and the database refuses a negative value, so a prize is never handed out twice."""

    __tablename__ = "instant_win_prizes"
    __table_args__ = (
        CheckConstraint("chance_ppm BETWEEN 1 AND 1000000", name="chance_range"),
        CheckConstraint("inventory >= 0", name="inventory_nonnegative"),
        CheckConstraint("remaining >= 0 AND remaining <= inventory", name="remaining_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    chance_ppm: Mapped[int] = mapped_column(nullable=False)
    inventory: Mapped[int] = mapped_column(nullable=False)
    remaining: Mapped[int] = mapped_column(nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)


class InstantWinPlay(WorkspaceScoped, Timestamped, Model):
    """One play, won or lost. ``seq`` numbers a participant's plays 1, 2, 3, …: two
    concurrent plays that both think they are the n-th collide on the unique key, so nobody
    plays more often than the rules allow."""

    __tablename__ = "instant_win_plays"
    __table_args__ = (
        UniqueConstraint("participation_id", "seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("roll BETWEEN 0 AND 999999", name="roll_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    participation_id: Mapped[int] = parent_key("participations", index=False)
    seq: Mapped[int] = mapped_column(nullable=False)
    # A bonus play (earned by a confirmed referral) rather than one of the day's plays.
    bonus: Mapped[bool] = mapped_column(default=False, nullable=False)
    roll: Mapped[int] = mapped_column(nullable=False)
    prize_id: Mapped[int | None] = optional_key(
        "instant_win_prizes", ondelete="RESTRICT", index=True
    )
