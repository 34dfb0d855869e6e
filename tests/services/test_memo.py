"""Configuration rows read once per transaction: never stale within it, fresh after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, update

from referral.extensions import db
from referral.models import Workspace
from referral.models.webhooks import WebhookEndpoint
from referral.services import webhooks
from tests.factories import Factory


@pytest.fixture
def selects(app) -> Iterator[list[str]]:
    """The SELECTs on webhook_endpoints that the session runs."""
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "webhook_endpoints" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def _endpoint(workspace: Workspace, url: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        workspace_id=workspace.id, url=url, secret="s" * 32, events=["reward.granted"]
    )
    db.session.add(endpoint)
    return endpoint


def _urls(workspace: Workspace) -> list[str]:
    return sorted(e.url for e in webhooks.active_endpoints(workspace.id))


def test_a_transaction_reads_the_endpoints_once(app, factory: Factory, selects) -> None:
    workspace = factory.workspace()
    _endpoint(workspace, "https://a.example.org/hook")
    db.session.commit()
    selects.clear()
    assert _urls(workspace) == ["https://a.example.org/hook"]
    assert _urls(workspace) == ["https://a.example.org/hook"]
    assert len(selects) == 1


def test_a_transaction_sees_its_own_new_endpoint(app, factory: Factory) -> None:
    workspace = factory.workspace()
    db.session.commit()
    assert _urls(workspace) == []
    _endpoint(workspace, "https://b.example.org/hook")
    assert _urls(workspace) == ["https://b.example.org/hook"]


def test_a_bulk_update_of_endpoints_is_seen_at_once(app, factory: Factory) -> None:
    workspace = factory.workspace()
    _endpoint(workspace, "https://c.example.org/hook")
    db.session.commit()
    assert _urls(workspace) == ["https://c.example.org/hook"]
    db.session.execute(update(WebhookEndpoint).values(active=False))
    assert _urls(workspace) == []


def test_a_released_savepoint_keeps_and_a_rolled_back_one_forgets(
    app, factory: Factory, selects
) -> None:
    workspace = factory.workspace()
    db.session.commit()
    with db.session.begin_nested():
        assert _urls(workspace) == []
    selects.clear()
    assert _urls(workspace) == []
    assert selects == []  # still the same transaction
    savepoint = db.session.begin_nested()
    _endpoint(workspace, "https://d.example.org/hook")
    assert _urls(workspace) == ["https://d.example.org/hook"]
    savepoint.rollback()
    assert _urls(workspace) == []


def test_another_transactions_change_is_seen_by_the_next_transaction(app, factory: Factory) -> None:
    workspace = factory.workspace()
    db.session.commit()
    assert _urls(workspace) == []
    with db.engine.begin() as other:  # another connection, as another process would
        other.execute(
            WebhookEndpoint.__table__.insert().values(
                workspace_id=workspace.id,
                url="https://e.example.org/hook",
                secret="s" * 32,
                events=["reward.granted"],
                active=True,
                created_at=workspace.created_at,
            )
        )
    db.session.commit()
    assert _urls(workspace) == ["https://e.example.org/hook"]
