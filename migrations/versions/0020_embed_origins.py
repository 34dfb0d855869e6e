"""embed origins: ``campaigns.embed_origins``, the sites whose pages may frame a campaign's
widgets (empty: none but the service itself)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 12:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("embed_origins", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade():
    # Not a batch on SQLite: recreating campaigns would drop the old table, and with foreign
    # keys on that deletes every row that cascades from a campaign (participations, clicks).
    op.drop_column("campaigns", "embed_origins")
