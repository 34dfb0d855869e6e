"""Fixtures: an app on a fresh database per test.

SQLite (a file in the test's temporary folder) by default; PostgreSQL when
``TEST_DATABASE_URL`` is set, where the schema is built once per session and every table
is emptied (identities restarted) before each test.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from referral import create_app
from referral.config import test_config
from referral.extensions import db, limiter
from tests.factories import Factory
from tests.webhook_receiver import Receiver

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
if PG_URL.startswith("postgresql://"):
    PG_URL = "postgresql+psycopg://" + PG_URL[len("postgresql://") :]


def _admin_engine(base_url: str) -> Any:
    return create_engine(base_url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    """With TEST_DATABASE_URL: a throwaway database for this test process (and xdist
    worker), so parallel runs never empty each other's tables; dropped at the end."""
    if not PG_URL:
        yield ""
        return
    base, _, _name = PG_URL.rpartition("/")
    name = f"referral_test_{worker_id}_{os.getpid()}".lower()
    admin = _admin_engine(PG_URL)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def app_on_own_database(tmp_path: Path, database_url: str, suffix: str) -> Iterator[Flask]:
    """An app on an empty database of its own, not the shared test schema (for migration
    tests): a SQLite file in ``tmp_path``, or a PostgreSQL database named after
    ``database_url``'s with ``_<suffix>``, created empty and dropped afterwards."""
    if not database_url:
        yield create_app(test_config(f"sqlite:///{tmp_path / f'{suffix}.sqlite'}"))
        return
    base, _, name = database_url.rpartition("/")
    own = f"{name}_{suffix}"
    admin = _admin_engine(database_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own}"'))
        conn.execute(text(f'CREATE DATABASE "{own}"'))
    app = create_app(test_config(f"{base}/{own}"))
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return bool(database_url)


_schema_ready: dict[str, bool] = {}


class IsolatedClient(FlaskClient):
    """Each request gets its own application context (and so its own ``g`` and database
    session), as in production, even though the test itself holds one open."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # The test's own session ends its transaction around each request, so the request
        # sees what the test wrote and the test then reads what the request wrote (SQLite in
        # WAL mode and PostgreSQL both give a transaction a snapshot of its own).
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.commit()


def _truncate_all() -> None:
    """Empty every table and restart every id at 1, as ``TRUNCATE … RESTART IDENTITY`` would.

    TRUNCATE of every table costs PostgreSQL a new file per table (most of a second for the
    whole schema); deleting the rows of the few tables a test used is far cheaper.
    """
    # The configuration's token stays: a delete from a configuration table replaces it.
    tables = [t for t in db.metadata.sorted_tables if t.name != "config_version"]
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
    )
    used = {name for (name,) in db.session.execute(text(probe))}
    for table in reversed(tables):  # children first, so no foreign key is left dangling
        if table.name in used:
            db.session.execute(text(f'DELETE FROM "{table.name}"'))
    restarts = ", ".join(
        f"setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), 1, false)"
        for t in tables
        if "id" in t.c and t.c.id.autoincrement in (True, "auto")
    )
    db.session.execute(text(f"SELECT {restarts}"))
    db.session.commit()


@pytest.fixture
def app(database_url: str, tmp_path: Any) -> Iterator[Flask]:
    url = database_url or f"sqlite:///{tmp_path / 'test.sqlite'}"
    app = create_app(test_config(url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        if database_url:
            if not _schema_ready.get(url):
                db.create_all()
                _schema_ready[url] = True
            _truncate_all()
        else:
            db.create_all()
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """A test client that signs in and posts forms with their CSRF token, like a person."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str) -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def login(self, email: str, password: str = Factory.PASSWORD) -> Any:
        token = self.token("/login")
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def post(
        self, path: str, data: dict[str, Any] | None = None, form_page: str | None = None
    ) -> Any:
        token = self.token(form_page or "/admin/campaigns")
        payload = {"csrf_token": token, **(data or {})}
        return self.client.post(path, data=payload)


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def login_as(browser: Browser, factory: Factory) -> Any:
    """``login_as("editor")`` → a marketer of a fresh workspace with that role, signed in."""

    def _login(role: str = "owner", workspace: Any = None) -> Any:
        marketer, workspace = factory.marketer(role=role, workspace=workspace)
        response = browser.login(marketer.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return marketer, workspace

    return _login


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint on 127.0.0.1 that records what it receives (``receiver.url``)."""
    found = Receiver()
    yield found
    found.close()
