"""Prize draws: the committed seed, versions of the official rules, the frozen entries, the
draw itself and every replacement of a disqualified winner (DESIGN invariant 4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import parent_key


class Lottery(WorkspaceScoped, Timestamped, Model):
    """The draw state of one lottery campaign, created when it is published.

    ``seed`` stays secret until the draw; ``commitment`` (its SHA-256) is public from the
    opening and never changes. ``entries_digest`` is set once, when entries freeze at close.
    """

    __tablename__ = "lotteries"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns", unique=True)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    commitment: Mapped[str] = mapped_column(String(64), nullable=False)
    beacon_source: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    entries_digest: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LotteryRulesVersion(Timestamped, Model):
    """One published version of a lottery's official rules; never changed, only added to."""

    __tablename__ = "lottery_rules_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    version: Mapped[int] = mapped_column(nullable=False)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), default="", nullable=False)


class LotteryEntry(Timestamped, Model):
    """One frozen entry: an opaque id (no personal data) and its weight, 1 + bonus entries.

    Written once, when the lottery closes; one per participation (database unique key).
    """

    __tablename__ = "lottery_entries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "participation_id"),
        CheckConstraint("weight >= 1", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    participation_id: Mapped[int] = parent_key("participations", index=False)
    entry_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    weight: Mapped[int] = mapped_column(nullable=False)


class Draw(WorkspaceScoped, Model):
    """The one draw of a lottery (unique per campaign) and its published record."""

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns", unique=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    results_published: Mapped[bool] = mapped_column(default=False, nullable=False)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class DrawReplacement(Timestamped, Model):
    """A disqualified winner and the alternate who took the place (None: none was left)."""

    __tablename__ = "draw_replacements"
    __table_args__ = (UniqueConstraint("draw_id", "disqualified_entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = parent_key("draws")
    disqualified_entry_id: Mapped[str] = mapped_column(String(32), nullable=False)
    replacement_entry_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
