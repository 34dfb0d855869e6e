"""instant-win prizes and plays, trial reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 13:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('referral', 'lottery', 'survey', 'trial')"
NEW_KINDS = "kind IN ('referral', 'lottery', 'survey', 'trial', 'instant_win')"


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_campaigns_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_campaigns_kind"), NEW_KINDS)

    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participation_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > started_at", name=op.f("ck_trials_ends_after_start")),
        sa.CheckConstraint(
            "reminder_at IS NULL OR reminder_at <= ends_at",
            name=op.f("ck_trials_reminder_before_end"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_trials_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participation_id"], ["participations.id"],
            name=op.f("fk_trials_participation_id_participations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"],
            name=op.f("fk_trials_workspace_id_workspaces"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trials")),
        sa.UniqueConstraint("participation_id", name=op.f("uq_trials_participation_id")),
    )
    with op.batch_alter_table("trials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trials_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trials_reminder_at"), ["reminder_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trials_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "trial_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"], ["outbox_messages.id"],
            name=op.f("fk_trial_reminders_outbox_message_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name=op.f("fk_trial_reminders_trial_id_trials"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_reminders")),
        sa.UniqueConstraint("trial_id", "kind", name=op.f("uq_trial_reminders_trial_id_kind")),
    )

    op.create_table(
        "instant_win_prizes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("chance_ppm", sa.Integer(), nullable=False),
        sa.Column("inventory", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "chance_ppm BETWEEN 1 AND 1000000", name=op.f("ck_instant_win_prizes_chance_range")
        ),
        sa.CheckConstraint(
            "inventory >= 0", name=op.f("ck_instant_win_prizes_inventory_nonnegative")
        ),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= inventory",
            name=op.f("ck_instant_win_prizes_remaining_range"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_instant_win_prizes_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instant_win_prizes")),
    )
    with op.batch_alter_table("instant_win_prizes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instant_win_prizes_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "instant_win_plays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("participation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bonus", sa.Boolean(), nullable=False),
        sa.Column("roll", sa.Integer(), nullable=False),
        sa.Column("prize_id", sa.Integer(), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_instant_win_plays_seq_positive")),
        sa.CheckConstraint(
            "roll BETWEEN 0 AND 999999", name=op.f("ck_instant_win_plays_roll_range")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_instant_win_plays_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participation_id"], ["participations.id"],
            name=op.f("fk_instant_win_plays_participation_id_participations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prize_id"], ["instant_win_prizes.id"],
            name=op.f("fk_instant_win_plays_prize_id_instant_win_prizes"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"],
            name=op.f("fk_instant_win_plays_workspace_id_workspaces"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instant_win_plays")),
        sa.UniqueConstraint(
            "participation_id", "seq", name=op.f("uq_instant_win_plays_participation_id_seq")
        ),
    )
    with op.batch_alter_table("instant_win_plays", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instant_win_plays_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_instant_win_plays_prize_id"), ["prize_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_instant_win_plays_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("instant_win_plays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instant_win_plays_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_instant_win_plays_prize_id"))
        batch_op.drop_index(batch_op.f("ix_instant_win_plays_campaign_id"))
    op.drop_table("instant_win_plays")
    with op.batch_alter_table("instant_win_prizes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instant_win_prizes_campaign_id"))
    op.drop_table("instant_win_prizes")
    op.drop_table("trial_reminders")
    with op.batch_alter_table("trials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trials_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_trials_reminder_at"))
        batch_op.drop_index(batch_op.f("ix_trials_campaign_id"))
    op.drop_table("trials")
    op.execute("DELETE FROM campaigns WHERE kind = 'instant_win'")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_campaigns_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_campaigns_kind"), OLD_KINDS)
