"""Workspaces (one brand each), the marketers who work in them, and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key

if TYPE_CHECKING:

    class UserMixin:
        """What Flask-Login's mixin, which ships no types, adds to a marketer (as an
        untyped base it would make every query for marketers ``Any`` to mypy)."""

        @property
        def is_authenticated(self) -> bool: ...

        @property
        def is_anonymous(self) -> bool: ...

else:
    from flask_login import UserMixin

ROLES = ("owner", "editor", "viewer")


class Workspace(Timestamped, Model):
    """One brand. ``mail_cap_limit`` and ``mail_cap_days``: at most that many marketing
    messages from its journeys per customer in any that many days (an owner's setting,
    1 to 50 in 1 to 90 days, 3 in 7 by default)."""

    __tablename__ = "workspaces"
    __table_args__ = (
        CheckConstraint("mail_cap_limit BETWEEN 1 AND 50", name="mail_cap_limit"),
        CheckConstraint("mail_cap_days BETWEEN 1 AND 90", name="mail_cap_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    mail_cap_limit: Mapped[int] = mapped_column(default=3, server_default="3", nullable=False)
    mail_cap_days: Mapped[int] = mapped_column(default=7, server_default="7", nullable=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="workspace")


class Marketer(UserMixin, Timestamped, Model):
    """A person who logs in to ``/admin``.

    ``session_token`` is what the login cookie names (Flask-Login's alternative id): it is
    replaced at logout and at a password change, so every copy of an old cookie stops working.
    """

    __tablename__ = "marketers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    locale: Mapped[str | None] = mapped_column(String(16))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="marketer", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active


class Membership(WorkspaceScoped, Timestamped, Model):
    """A marketer's role in one workspace: owner, editor or viewer."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("workspace_id", "marketer_id"),
        CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    marketer_id: Mapped[int] = parent_key("marketers")
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    # Set when an owner disables this marketer here: they can no longer open the workspace.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    workspace: Mapped[Workspace] = relationship(back_populates="memberships")
    marketer: Mapped[Marketer] = relationship(back_populates="memberships")


class ApiKey(WorkspaceScoped, Timestamped, Model):
    """A bearer key for the JSON API. Only a SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_by_id: Mapped[int | None] = optional_key("marketers")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
