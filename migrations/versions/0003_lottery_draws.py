"""lottery rules, entries and draws

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 13:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lotteries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("beacon_source", sa.String(length=200), nullable=False),
        sa.Column("entries_digest", sa.String(length=64), nullable=True),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_lotteries_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_lotteries_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lotteries")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_lotteries_campaign_id")),
    )
    with op.batch_alter_table("lotteries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lotteries_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "lottery_rules_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_lottery_rules_versions_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lottery_rules_versions")),
        sa.UniqueConstraint("campaign_id", "version", name=op.f("uq_lottery_rules_versions_campaign_id_version")),
    )
    with op.batch_alter_table("lottery_rules_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lottery_rules_versions_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "lottery_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participation_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("weight >= 1", name=op.f("ck_lottery_entries_weight_positive")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_lottery_entries_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participation_id"], ["participations.id"], name=op.f("fk_lottery_entries_participation_id_participations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lottery_entries")),
        sa.UniqueConstraint("campaign_id", "participation_id", name=op.f("uq_lottery_entries_campaign_id_participation_id")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_lottery_entries_entry_id")),
    )
    with op.batch_alter_table("lottery_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lottery_entries_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("results_published", sa.Boolean(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_draws_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_draws_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draws")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_draws_campaign_id")),
    )
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draws_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "draw_replacements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("disqualified_entry_id", sa.String(length=32), nullable=False),
        sa.Column("replacement_entry_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], name=op.f("fk_draw_replacements_draw_id_draws"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_replacements")),
        sa.UniqueConstraint("draw_id", "disqualified_entry_id", name=op.f("uq_draw_replacements_draw_id_disqualified_entry_id")),
        sa.UniqueConstraint("replacement_entry_id", name=op.f("uq_draw_replacements_replacement_entry_id")),
    )
    with op.batch_alter_table("draw_replacements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draw_replacements_draw_id"), ["draw_id"], unique=False)


def downgrade():
    with op.batch_alter_table("draw_replacements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draw_replacements_draw_id"))
    op.drop_table("draw_replacements")
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draws_workspace_id"))
    op.drop_table("draws")
    with op.batch_alter_table("lottery_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lottery_entries_campaign_id"))
    op.drop_table("lottery_entries")
    with op.batch_alter_table("lottery_rules_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lottery_rules_versions_campaign_id"))
    op.drop_table("lottery_rules_versions")
    with op.batch_alter_table("lotteries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lotteries_workspace_id"))
    op.drop_table("lotteries")
