"""clicks partitioned by month of ``created_at`` on PostgreSQL (a partition per month from
the oldest click to two months ahead, and a default one); nothing changes on SQLite

The rows are copied into the new partitioned table under the same name, indexes and
sequence (so ids carry on); PostgreSQL requires the partition key in the primary key,
which becomes (id, created_at). ``referral prune`` keeps creating the months ahead and
drops the ones past ``RETENTION_CLICKS_DAYS`` (docs/SCALING.md, "Tables that grow").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:30:00

"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "clicks"
COLUMNS = "id, campaign_id, participation_id, channel, utm, ip_hash, visitor_hash, created_at"
INDEXED = ("campaign_id", "created_at", "participation_id")
MONTHS_AHEAD = 2


def _definition(primary_key: str) -> str:
    return f"""
        id INTEGER NOT NULL DEFAULT nextval('{TABLE}_id_seq'::regclass),
        campaign_id INTEGER NOT NULL,
        participation_id INTEGER NOT NULL,
        channel VARCHAR(32) NOT NULL,
        utm JSON NOT NULL,
        ip_hash VARCHAR(64),
        visitor_hash VARCHAR(64),
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT pk_{TABLE} PRIMARY KEY ({primary_key}),
        CONSTRAINT fk_{TABLE}_campaign_id_campaigns FOREIGN KEY (campaign_id)
            REFERENCES campaigns (id) ON DELETE CASCADE,
        CONSTRAINT fk_{TABLE}_participation_id_participations FOREIGN KEY (participation_id)
            REFERENCES participations (id) ON DELETE CASCADE
    """


def _set_aside(suffix: str) -> str:
    """Rename the current table and the names it holds, so the new one can take them."""
    old = f"{TABLE}_{suffix}"
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{TABLE} TO pk_{old}")
    for column in INDEXED:
        op.execute(f"ALTER INDEX ix_{TABLE}_{column} RENAME TO ix_{old}_{column}")
    return old


def _move_from(old: str) -> None:
    """Copy the rows over, hand the id sequence to the new table, and drop the old one."""
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {old}")
    for column in INDEXED:
        op.execute(f"CREATE INDEX ix_{TABLE}_{column} ON {TABLE} ({column})")
    op.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    op.execute(f"DROP TABLE {old} CASCADE")


def _month(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def _months(oldest: datetime | None) -> list[datetime]:
    """The first instants of the months from the oldest click's to two months ahead."""
    now = datetime.now(UTC)
    first = (oldest or now).astimezone(UTC)
    last = _month(now.year, now.month + MONTHS_AHEAD)
    months = [_month(first.year, first.month)]
    while months[-1] < last:
        months.append(_month(months[-1].year, months[-1].month + 1))
    return months


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    old = _set_aside("unpartitioned")
    op.execute(
        f"CREATE TABLE {TABLE} ({_definition('id, created_at')}) PARTITION BY RANGE (created_at)"
    )
    op.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    oldest = bind.execute(sa.text(f"SELECT min(created_at) FROM {old}")).scalar()
    for start in _months(oldest):
        end = _month(start.year, start.month + 1)
        op.execute(
            f"CREATE TABLE {TABLE}_{start:%Y_%m} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    _move_from(old)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    old = _set_aside("partitioned")
    op.execute(f"CREATE TABLE {TABLE} ({_definition('id')})")
    _move_from(old)
