"""Column types and mixins shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from referral.extensions import Base, db
from referral.models.keys import parent_key

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds ``db.Model`` at run time from ``Base`` (adding its bind and
    # table-name mixins), so a type checker sees only a variable there, no class to derive
    # from; to it, the models derive from ``Base``, which declares the same mapping.
    Model = Base
else:
    Model = db.Model


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database.

    PostgreSQL keeps the offset; SQLite stores naive text, so values are converted to UTC
    on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class WorkspaceScoped:
    """A row that belongs to exactly one workspace (DESIGN invariant 7).

    Admin and API code loads these only through ``services.scoping.get_owned``.
    """

    if TYPE_CHECKING:
        # Every such model has an integer primary key ``id`` (declared by each model, not
        # here, so the mapping is unchanged); ``get_owned`` filters on it.
        id: Mapped[int]

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:  # noqa: N805
        return parent_key("workspaces")
