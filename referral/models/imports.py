"""A file of people a marketer imports into a campaign: the upload, its mapping, its state
and, once done, the outcome of every row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key

IMPORT_STATUSES = ("uploaded", "queued", "running", "done", "failed")


class ParticipantImport(WorkspaceScoped, Timestamped, Model):
    """One upload. ``uploaded`` while the marketer maps its columns; ``queued`` for the
    worker (a large file), ``running`` while an import holds it, then ``done`` (in the
    import's own transaction, with its counts and report) or ``failed`` (nothing imported).
    The file is kept in the database so every app node and worker reads the same."""

    __tablename__ = "participant_imports"
    __table_args__ = (
        CheckConstraint(
            "status IN ('uploaded', 'queued', 'running', 'done', 'failed')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns")
    marketer_id: Mapped[int | None] = optional_key("marketers")
    filename: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # emptied once imported
    rows: Mapped[int] = mapped_column(default=0, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="uploaded", nullable=False)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    basis: Mapped[str] = mapped_column(Text, default="", nullable=False)
    confirmed: Mapped[bool] = mapped_column(default=False, nullable=False)
    # When a worker took it: a run older than the lease (its worker died) is taken again.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, nullable=False)
    # Each row's outcome: [line, email, result, [[field, template, params], …]].
    report: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    error: Mapped[str] = mapped_column(String(500), default="", nullable=False)
