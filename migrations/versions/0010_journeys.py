"""journeys: definitions and their versions, enrolments, the step log, message templates,
customer tags; a customer's time zone and birthday (month and day); outbox dedupe keys

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _created():
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _workspace(table):
    return (
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    )


def upgrade():
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_workspace("message_templates"),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint(
            "workspace_id",
            "key",
            "locale",
            name=op.f("uq_message_templates_workspace_id_key_locale"),
        ),
    )
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_templates_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "customer_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        *_workspace("customer_tags"),
        _created(),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_tags_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tags")),
        sa.UniqueConstraint("customer_id", "tag", name=op.f("uq_customer_tags_customer_id_tag")),
    )
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_tags_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(
            "ix_customer_tags_workspace_tag", ["workspace_id", "tag"], unique=False
        )

    op.create_table(
        "journeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("trigger_kind", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_workspace("journeys"),
        _created(),
        sa.CheckConstraint(
            "status IN ('draft', 'running', 'paused')", name=op.f("ck_journeys_status")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_journeys_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journeys")),
    )
    with op.batch_alter_table("journeys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journeys_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(
            "ix_journeys_trigger", ["workspace_id", "trigger_kind", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journeys_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "journey_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_versions_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_versions")),
        sa.UniqueConstraint(
            "journey_id", "version", name=op.f("uq_journey_versions_journey_id_version")
        ),
    )

    op.create_table(
        "journey_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("participation_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("entry_key", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("step_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visits", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting_for", sa.String(length=32), nullable=True),
        sa.Column("wait_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("goal_event", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("goal_reached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'waiting', 'done', 'exited')",
            name=op.f("ck_journey_enrolments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_journey_enrolments_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_journey_enrolments_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_enrolments_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participation_id"],
            ["participations.id"],
            name=op.f("fk_journey_enrolments_participation_id_participations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_enrolments")),
        sa.UniqueConstraint(
            "journey_id",
            "customer_id",
            "entry_key",
            name=op.f("uq_journey_enrolments_journey_id_customer_id_entry_key"),
        ),
    )
    with op.batch_alter_table("journey_enrolments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_enrolments_customer_status", ["customer_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journey_enrolments_next_run_at"), ["next_run_at"], unique=False
        )

    op.create_table(
        "journey_step_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_journey_step_logs_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["journey_enrolments.id"],
            name=op.f("fk_journey_step_logs_enrolment_id_journey_enrolments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_step_logs_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_step_logs")),
    )
    with op.batch_alter_table("journey_step_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_step_logs_customer_at", ["customer_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journey_step_logs_enrolment_id"), ["enrolment_id"], unique=False
        )
        batch_op.create_index(
            "ix_journey_step_logs_journey_step", ["journey_id", "step", "outcome"], unique=False
        )

    # Added columns only: SQLite adds them in place, without rebuilding the tables.
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("birthday_month", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("birthday_day", sa.SmallInteger(), nullable=True))

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=120), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_dedupe_key"), ["dedupe_key"], unique=True
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_dedupe_key"))
        batch_op.drop_column("dedupe_key")

    # A plain ALTER TABLE (SQLite 3.35 and later, PostgreSQL): rebuilding customers on SQLite
    # would drop the old table, and with it, through ON DELETE CASCADE, every row about them.
    for column in ("birthday_day", "birthday_month", "timezone"):
        op.execute(f"ALTER TABLE customers DROP COLUMN {column}")

    with op.batch_alter_table("journey_step_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_step_logs_journey_step")
        batch_op.drop_index(batch_op.f("ix_journey_step_logs_enrolment_id"))
        batch_op.drop_index("ix_journey_step_logs_customer_at")
    op.drop_table("journey_step_logs")

    with op.batch_alter_table("journey_enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_enrolments_next_run_at"))
        batch_op.drop_index("ix_journey_enrolments_customer_status")
    op.drop_table("journey_enrolments")

    op.drop_table("journey_versions")

    with op.batch_alter_table("journeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journeys_workspace_id"))
        batch_op.drop_index("ix_journeys_trigger")
        batch_op.drop_index(batch_op.f("ix_journeys_campaign_id"))
    op.drop_table("journeys")

    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_tags_workspace_tag")
        batch_op.drop_index(batch_op.f("ix_customer_tags_workspace_id"))
    op.drop_table("customer_tags")

    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_templates_workspace_id"))
    op.drop_table("message_templates")
