"""a workspace's cap on marketing mail from its journeys: at most ``mail_cap_limit``
messages per customer in any ``mail_cap_days`` days (3 in 7 until an owner changes it)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_cap_limit", sa.Integer(), server_default="3", nullable=False)
        )
        batch_op.add_column(
            sa.Column("mail_cap_days", sa.Integer(), server_default="7", nullable=False)
        )
        batch_op.create_check_constraint("mail_cap_limit", "mail_cap_limit BETWEEN 1 AND 50")
        batch_op.create_check_constraint("mail_cap_days", "mail_cap_days BETWEEN 1 AND 90")


def downgrade():
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_workspaces_mail_cap_days"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_workspaces_mail_cap_limit"), type_="check")
        batch_op.drop_column("mail_cap_days")
        batch_op.drop_column("mail_cap_limit")
