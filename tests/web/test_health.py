"""/healthz: ok, degraded with the reason while a dependency is slow or backed up, and
down (503 with Retry-After) while the database cannot be reached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from referral import config as settings
from referral import create_app
from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.base import utcnow
from tests.factories import Factory


def test_a_healthy_service_says_ok_with_the_database_latency(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and "reasons" not in body
    assert body["database_ms"] >= 0
    assert response.headers["Cache-Control"] == "no-store"


def test_a_slow_database_is_reported_as_degraded(app: Flask, client: FlaskClient) -> None:
    app.config["HEALTH_SLOW_DATABASE_MS"] = -1  # every answer counts as slow
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded"
    assert any(reason.startswith("database slow") for reason in body["reasons"])


def test_mail_waiting_too_long_is_reported_as_degraded(
    client: FlaskClient, factory: Factory
) -> None:
    db.session.add(
        OutboxMessage(
            workspace_id=factory.workspace().id,
            kind="confirmation",
            to_address="a@example.com",
            subject="Confirm",
            body_text="…",
            created_at=utcnow() - timedelta(hours=1),
        )
    )
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded"
    assert body["reasons"] == ["mail backlog (1 messages waiting over 15 minutes)"]


def test_an_unreachable_database_answers_503_down_with_retry_after() -> None:
    # Nothing listens on port 9 of this machine: the connection is refused at once.
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    app = create_app(settings.test_config(url))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert body["status"] == "down"
    assert body["reasons"] == ["database unreachable (OperationalError)"]


def test_a_page_while_the_database_is_unreachable_answers_503_not_500() -> None:
    app = create_app(settings.test_config("postgresql+psycopg://nobody@127.0.0.1:9/none"))
    response = app.test_client().get("/c/any-campaign")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    api = app.test_client().get("/api/v1/campaigns", headers={"Authorization": "Bearer rk_x"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"


def test_a_statement_slower_than_the_timeout_answers_503_on_postgresql(
    database_url: str,
) -> None:
    """The database answering late: the statement is cancelled at the timeout and the
    request gets a fast 503 instead of piling up."""
    if not database_url:
        pytest.skip("a PostgreSQL statement timeout (set TEST_DATABASE_URL)")
    app = create_app({**settings.test_config(database_url), "DATABASE_STATEMENT_TIMEOUT_MS": 200})
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def late() -> str:
        db.session.execute(text("SELECT pg_sleep(5)"))
        return "never"

    app.add_url_rule("/late-for-test", "late", late)
    response = app.test_client().get("/late-for-test")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    # Without the timeout the sleep would finish and the page answer 200.
    with app.app_context():
        db.engine.dispose()
