"""Saved segments: a named filter of a workspace's customers (``services.segments``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped, utcnow


class Segment(WorkspaceScoped, Timestamped, Model):
    """A filter of the customer list under a name, unique in its workspace. ``filters``
    holds the query parameters of the list (``campaign``, ``tag``, ``points_min`` …) as
    ``services.segments.CustomerFilter.to_params`` writes them."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
