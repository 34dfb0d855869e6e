"""The migrations build the schema the models describe, with a single head."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from referral import create_app
from referral.config import test_config as make_test_config
from referral.extensions import db, migrate
from referral.models import partitions


@pytest.fixture
def empty_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app on an empty database of its own (not the shared test schema)."""
    if not database_url:
        yield create_app(make_test_config(f"sqlite:///{tmp_path / 'migrated.sqlite'}"))
        return
    base, _, name = database_url.rpartition("/")
    own = f"{name}_migrations"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own}"'))
        conn.execute(text(f'CREATE DATABASE "{own}"'))
    app = create_app(make_test_config(f"{base}/{own}"))
    yield app
    with app.app_context():
        db.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_have_a_single_head(empty_app: Flask) -> None:
    with empty_app.app_context():
        heads = ScriptDirectory.from_config(migrate.get_config()).get_heads()
    assert len(heads) == 1


def test_upgrade_head_on_an_empty_database_matches_the_models(empty_app: Flask) -> None:
    with empty_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # the monthly partitions of a partitioned table (PostgreSQL) are part of it
            opts = {"compare_type": True, "include_name": partitions.include_name}
            context = MigrationContext.configure(conn, opts=opts)
            drift = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
    assert drift == []
    assert {"workspaces", "marketers", "campaigns", "participations", "ledger_entries"} <= tables


def test_every_migration_downgrades_to_an_empty_database(empty_app: Flask) -> None:
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version"}
    assert left == set()
