"""participant imports: a marketer's uploaded file of people (``participant_imports``: the
file, its column mapping and stated basis, its state for the worker and, once imported,
the counts and each row's outcome)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participant_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("marketer_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('uploaded', 'queued', 'running', 'done', 'failed')",
            name=op.f("ck_participant_imports_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_participant_imports_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marketer_id"],
            ["marketers.id"],
            name=op.f("fk_participant_imports_marketer_id_marketers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_participant_imports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_imports")),
    )
    with op.batch_alter_table("participant_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participant_imports_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_participant_imports_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade():
    op.drop_table("participant_imports")
