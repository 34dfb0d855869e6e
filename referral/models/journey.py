"""Journeys: their definitions and versions, the customers walking through them, every step
they took, the message templates they send, and the customers' tags.

An enrolment runs on the version of the definition it entered with, so editing a running
journey never changes the path of someone already in it. UNIQUE(journey, customer,
entry_key) is the re-entry policy (``domain.journeys.entry_key``): a second enrolment with
the same key is never inserted, also when two transactions race. See docs/JOURNEYS.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped, utcnow
from referral.models.keys import optional_key, parent_key

JOURNEY_STATUSES = ("draft", "running", "paused")
ENROLMENT_STATUSES = ("active", "waiting", "done", "exited")


class Journey(WorkspaceScoped, Timestamped, Model):
    """A journey of one workspace (optionally of one campaign).

    ``definition`` is the latest version's JSON; ``trigger_kind`` repeats what starts it
    (an event kind, ``tag_added``, ``date`` or ``inactivity``) so that recording an event
    finds its journeys with one indexed query.
    """

    __tablename__ = "journeys"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'running', 'paused')", name="status"),
        Index("ix_journeys_trigger", "workspace_id", "trigger_kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = optional_key("campaigns", ondelete="CASCADE", index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="draft", nullable=False)
    version: Mapped[int] = mapped_column(default=1, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    trigger_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class JourneyVersion(Timestamped, Model):
    """One saved definition of a journey; never changed once written."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("journey_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = parent_key("journeys", index=False)
    version: Mapped[int] = mapped_column(nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class JourneyEnrolment(Model):
    """One customer walking through one version of a journey.

    ``step``/``step_since``: where the enrolment stands and since when (the interpreter's
    position); ``visits`` counts the arrivals per step, so a step reached again in a loop is
    a new visit with its own outbox key. ``next_run_at`` is when a runner should look again
    (None once finished); ``claimed_until`` is a runner's lease on the row; ``goal_event``
    repeats the goal of its version, so that the goal's event wakes the enrolment.
    """

    __tablename__ = "journey_enrolments"
    __table_args__ = (
        UniqueConstraint("journey_id", "customer_id", "entry_key"),
        CheckConstraint("status IN ('active', 'waiting', 'done', 'exited')", name="status"),
        Index("ix_journey_enrolments_customer_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = parent_key("journeys", index=False)
    version: Mapped[int] = mapped_column(nullable=False)
    customer_id: Mapped[int] = parent_key("customers", index=False)
    participation_id: Mapped[int | None] = optional_key("participations")
    campaign_id: Mapped[int | None] = optional_key("campaigns")
    entry_key: Mapped[str] = mapped_column(String(64), nullable=False)
    step: Mapped[str] = mapped_column(String(64), nullable=False)
    step_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    visits: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="active", nullable=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    waiting_for: Mapped[str | None] = mapped_column(String(32))
    wait_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    goal_event: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    goal_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JourneyStepLog(Model):
    """What one step did for one enrolment: the per-step figures and the customer's timeline.

    ``outcome``: ``sent``, ``deferred:<reason>``, ``skipped:<reason>``, ``branch:<n>`` or
    ``branch:else``, ``waited``, ``received``, ``timeout``, ``granted``, ``tagged``,
    ``untagged``, ``webhook``, ``exit`` or ``goal``; ``entered`` for the enrolment itself.
    ``journey_id`` and ``customer_id`` repeat the enrolment's, for the figures of a journey
    and the timeline (and the mail caps) of a customer.
    """

    __tablename__ = "journey_step_logs"
    __table_args__ = (
        Index("ix_journey_step_logs_journey_step", "journey_id", "step", "outcome"),
        Index("ix_journey_step_logs_customer_at", "customer_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = parent_key("journey_enrolments")
    journey_id: Mapped[int] = parent_key("journeys", index=False)
    customer_id: Mapped[int] = parent_key("customers", index=False)
    step: Mapped[str] = mapped_column(String(64), nullable=False)
    visit: Mapped[int] = mapped_column(default=1, nullable=False)
    outcome: Mapped[str] = mapped_column(String(48), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class MessageTemplate(WorkspaceScoped, Timestamped, Model):
    """One locale of a journey message (``key`` is what a ``send`` step names): a subject,
    a text part and an optional HTML part, checked in the sandbox when saved."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "key", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class CustomerTag(WorkspaceScoped, Timestamped, Model):
    """A tag on a customer (``vip``, ``promoter_buyer``): set by a journey or the API, read
    by branch conditions; adding one can start a journey."""

    __tablename__ = "customer_tags"
    __table_args__ = (
        UniqueConstraint("customer_id", "tag"),
        Index("ix_customer_tags_workspace_tag", "workspace_id", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = parent_key("customers", index=False)
    tag: Mapped[str] = mapped_column(String(64), nullable=False)
