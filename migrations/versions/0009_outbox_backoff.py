"""outbox messages carry their next attempt (per-message back-off until a deadline)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:05:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


NEW = "status IN ('queued', 'sending', 'sent', 'logged', 'failed', 'undeliverable')"
OLD = "status IN ('queued', 'sent', 'logged', 'failed')"


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_outbox_messages_status"), type_="check")
        batch_op.create_check_constraint("status", NEW)


def downgrade():
    op.execute(
        "UPDATE outbox_messages SET status = 'failed' WHERE status IN ('sending', 'undeliverable')"
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_status"), type_="check")
        batch_op.create_check_constraint("status", OLD)
        batch_op.drop_column("next_attempt_at")
