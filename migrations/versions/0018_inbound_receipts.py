"""inbound receipts: each payment provider event received (its id unique per workspace and
provider, so a delivery sent again is acted on once), what it did and why

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('recorded', 'ignored')", name=op.f("ck_inbound_receipts_status")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_inbound_receipts_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_inbound_receipts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_receipts")),
        sa.UniqueConstraint(
            "workspace_id",
            "provider",
            "delivery_id",
            name=op.f("uq_inbound_receipts_workspace_id_provider_delivery_id"),
        ),
    )
    op.create_index(
        op.f("ix_inbound_receipts_workspace_id"), "inbound_receipts", ["workspace_id"]
    )


def downgrade():
    op.drop_index(op.f("ix_inbound_receipts_workspace_id"), table_name="inbound_receipts")
    op.drop_table("inbound_receipts")
