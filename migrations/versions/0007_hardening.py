"""hardening: security events in the audit log, consent user agent and withdrawals,
disabled memberships

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 14:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("workspace_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column("actor", sa.String(length=120), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), server_default="ok", nullable=False)
        )
        batch_op.add_column(sa.Column("ip_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action", sa.String(length=16), server_default="given", nullable=False)
        )
        batch_op.add_column(sa.Column("user_agent", sa.String(length=256), nullable=True))
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("action")
    op.execute("DELETE FROM audit_entries WHERE workspace_id IS NULL")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("ip_hash")
        batch_op.drop_column("outcome")
        batch_op.drop_column("actor")
        batch_op.alter_column("workspace_id", existing_type=sa.Integer(), nullable=False)
