"""The token that changes with the configuration every sign-up reads.

Campaigns, their workspaces, reward rules, journeys, webhook endpoints and e-mail texts
are read by every page view, join and confirmation, and change only when a marketer edits
them (or a campaign moves on: published, closed, its draw's entries frozen).
``config_version`` holds one row whose ``token`` the database itself replaces, with a
random value, on every insert, update or delete of those tables (triggers, on SQLite and
PostgreSQL alike; on PostgreSQL also a ``TRUNCATE``), so a process may keep what it read
under the token it read it with (``services.memo.shared``) for as long as the token stays
the same. A random token is never reused: a change that is rolled back leaves a token no
one else ever reads.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from referral.models.base import Model

# The tables whose rows ``services.memo.shared`` keeps across transactions.
CONFIG_TABLES = (
    "workspaces",
    "campaigns",
    "reward_rules",
    "journeys",
    "webhook_endpoints",
    "message_templates",
)


class ConfigVersion(Model):
    """One row: the token of the configuration as it stands (see the module docstring)."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(40), nullable=False)


def sqlite_statements() -> list[str]:
    """The triggers of :data:`CONFIG_TABLES` and the first token, on SQLite."""
    bump = (
        "INSERT INTO config_version (id, token) VALUES (1, lower(hex(randomblob(16)))) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
    )
    statements = [bump]
    for table in CONFIG_TABLES:
        for action in ("INSERT", "UPDATE", "DELETE"):
            statements.append(
                f'CREATE TRIGGER IF NOT EXISTS "{table}_config_{action.lower()}" '
                f'AFTER {action} ON "{table}" BEGIN {bump}; END'
            )
    return statements


def postgresql_statements() -> list[str]:
    """The function, the triggers of :data:`CONFIG_TABLES` and the first token, on
    PostgreSQL (one trigger per statement: a bulk change draws one new token)."""
    bump = (
        "INSERT INTO config_version (id, token) VALUES (1, md5(random()::text || "
        "clock_timestamp()::text)) ON CONFLICT (id) DO UPDATE SET token = excluded.token"
    )
    statements = [
        "CREATE OR REPLACE FUNCTION referral_config_changed() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {bump}; RETURN NULL; END $$",
        bump,
    ]
    for table in CONFIG_TABLES:
        statements.append(f'DROP TRIGGER IF EXISTS "{table}_config" ON "{table}"')
        statements.append(
            f'CREATE TRIGGER "{table}_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
            f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION referral_config_changed()'
        )
    return statements


def _after_create(target: object, connection: object, **_kw: object) -> None:
    """``create_all`` builds the triggers too, once every table exists."""
    dialect = connection.dialect.name  # type: ignore[attr-defined]
    if dialect == "sqlite":
        found = sqlite_statements()
    elif dialect == "postgresql":
        found = postgresql_statements()
    else:
        return
    for statement in found:
        connection.exec_driver_sql(statement)  # type: ignore[attr-defined]


event.listen(Model.metadata, "after_create", _after_create)
