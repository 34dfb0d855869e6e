"""ledger lines a journey grants: no reward rule pays them, a unique source key
(``journey:<enrolment>:<step>:<visit>``) keeps each one to a single payment, at level 0

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


RULE_OR_GRANT = "rule_id IS NOT NULL OR (source_key IS NOT NULL AND level = 0)"


def upgrade():
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_key", sa.String(length=128), nullable=True))
        batch_op.alter_column("rule_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_entries_source_key"), ["source_key"]
        )
        batch_op.create_check_constraint("rule_or_grant", RULE_OR_GRANT)


def downgrade():
    op.execute("DELETE FROM ledger_entries WHERE rule_id IS NULL")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ledger_entries_rule_or_grant"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_ledger_entries_source_key"), type_="unique")
        batch_op.alter_column("rule_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("source_key")
