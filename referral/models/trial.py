"""Free trials: one per confirmed participation of a trial campaign, and its reminder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key


class Trial(WorkspaceScoped, Timestamped, Model):
    """A free trial: it starts when the person confirms their address and runs for the
    campaign's trial length, fixed at the start (a later change of the setting does not move
    running trials). Conversion is an event (``trial_converted``), not a column: the API and
    the admin both record it through the same event path."""

    __tablename__ = "trials"
    __table_args__ = (
        UniqueConstraint("participation_id"),
        CheckConstraint("ends_at > started_at", name="ends_after_start"),
        CheckConstraint(
            "reminder_at IS NULL OR reminder_at <= ends_at", name="reminder_before_end"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    participation_id: Mapped[int] = parent_key("participations", index=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # When the "your trial ends soon" e-mail is due; None: the campaign sends none.
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class TrialReminder(Timestamped, Model):
    """The record that a trial's reminder was sent: its unique key makes the reminder job
    send each one exactly once, even when two runs overlap."""

    __tablename__ = "trial_reminders"
    __table_args__ = (UniqueConstraint("trial_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = parent_key("trials", index=False)
    kind: Mapped[str] = mapped_column(String(16), default="ending", nullable=False)
    outbox_message_id: Mapped[int | None] = optional_key("outbox_messages")
