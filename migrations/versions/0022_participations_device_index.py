"""participations: ``ix_participations_device`` on (ip_hash, campaign_id, agent_hash,
created_at) in place of the index on ip_hash alone, so a sign-up's same-device count reads
the index and not every participation of the campaign or of the address

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 20:00:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participations_device",
            ["ip_hash", "campaign_id", "agent_hash", "created_at"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_participations_ip_hash"))


def downgrade():
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participations_ip_hash"), ["ip_hash"], unique=False)
        batch_op.drop_index("ix_participations_device")
