"""counters of clicks, sign-ups by status and referrals, per campaign and per participation,
each kept in up to 16 slots that writers add to (a count is the sum of its slots); filled
from the clicks and participations already stored

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# What services.counters.truth counts, written to slot 0 (participation_id 0: the campaign).
BACKFILL = """
INSERT INTO counters (campaign_id, participation_id, name, slot, value)
SELECT campaign_id, 0, 'clicks', 0, COUNT(*) FROM clicks GROUP BY campaign_id
UNION ALL
SELECT campaign_id, participation_id, 'clicks', 0, COUNT(*) FROM clicks
 GROUP BY campaign_id, participation_id
UNION ALL
SELECT campaign_id, 0, 'status:' || status, 0, COUNT(*) FROM participations
 GROUP BY campaign_id, status
UNION ALL
SELECT campaign_id, 0, 'referred:' || status, 0, COUNT(*) FROM participations
 WHERE referrer_id IS NOT NULL GROUP BY campaign_id, status
UNION ALL
SELECT campaign_id, referrer_id, 'referrals:' || status, 0, COUNT(*) FROM participations
 WHERE referrer_id IS NOT NULL GROUP BY campaign_id, referrer_id, status
"""


def upgrade():
    op.create_table(
        "counters",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "participation_id >= 0", name=op.f("ck_counters_participation_or_campaign")
        ),
        sa.CheckConstraint("slot BETWEEN 0 AND 15", name=op.f("ck_counters_slot_range")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_counters_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "participation_id", "name", "slot", name=op.f("pk_counters")
        ),
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table("counters")
