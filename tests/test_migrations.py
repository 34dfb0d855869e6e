"""The migrations build the schema the models describe, with a single head."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from referral.extensions import db, migrate
from referral.models import partitions
from tests.conftest import app_on_own_database


@pytest.fixture
def empty_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app on an empty database of its own (not the shared test schema)."""
    with app_on_own_database(tmp_path, database_url, "migrations") as app:
        yield app


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
