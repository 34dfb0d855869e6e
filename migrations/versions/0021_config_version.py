"""config version: ``config_version``, one row whose token the database replaces on every
change of the workspaces, campaigns, reward rules, journeys, webhook endpoints and e-mail
texts (triggers), so a process may keep what it read of them while the token stays the same

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = (
    "workspaces",
    "campaigns",
    "reward_rules",
    "journeys",
    "webhook_endpoints",
    "message_templates",
)
SQLITE_BUMP = (
    "INSERT INTO config_version (id, token) VALUES (1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
POSTGRESQL_BUMP = (
    "INSERT INTO config_version (id, token) VALUES (1, md5(random()::text || "
    "clock_timestamp()::text)) ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)


def upgrade():
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION referral_config_changed() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {POSTGRESQL_BUMP}; RETURN NULL; END $$"
        )
        op.execute(POSTGRESQL_BUMP)
        for table in TABLES:
            op.execute(
                f'CREATE TRIGGER "{table}_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION referral_config_changed()'
            )
    else:
        op.execute(SQLITE_BUMP)
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f'CREATE TRIGGER "{table}_config_{action.lower()}" '
                    f'AFTER {action} ON "{table}" BEGIN {SQLITE_BUMP}; END'
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS "{table}_config" ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS referral_config_changed()")
    else:
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f'DROP TRIGGER IF EXISTS "{table}_config_{action}"')
    op.drop_table("config_version")
