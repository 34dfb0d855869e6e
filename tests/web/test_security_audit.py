"""Security events in the audit log: API keys created, used and revoked; ids of another
workspace tried in the admin and the API. Each entry says who, what, to what and how it
ended, and the caller's answer stays a plain 404."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry
from referral.services.api_keys import revoke_api_key
from tests.conftest import Browser
from tests.factories import Factory


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_an_api_key_is_audited_when_created_used_and_revoked(
    client: FlaskClient, factory: Factory
) -> None:
    workspace = factory.workspace()
    key, secret = factory.api_key(workspace)
    (created,) = entries("api_key.create")
    assert (created.subject, created.workspace_id) == (f"api_key:{key.id}", workspace.id)
    assert secret not in str(created.data)
    auth = {"Authorization": f"Bearer {secret}"}
    env = {"REMOTE_ADDR": "203.0.113.5"}
    for _ in range(3):  # noted once a minute, not per request
        assert client.get("/api/v1/campaigns", headers=auth, environ_base=env).status_code == 200
    (used,) = entries("api_key.use")
    assert (
        used.actor == f"api_key:{key.prefix}" and used.ip_hash and "203.0.113" not in used.ip_hash
    )
    revoke_api_key(key)
    revoke_api_key(key)  # idempotent: one entry
    assert [e.subject for e in entries("api_key.revoke")] == [f"api_key:{key.id}"]
    assert client.get("/api/v1/campaigns", headers=auth).status_code == 401


def test_an_api_call_with_another_workspaces_campaign_id_is_404_and_audited(
    client: FlaskClient, factory: Factory
) -> None:
    mine, theirs = factory.workspace(), factory.workspace()
    foreign = factory.campaign(theirs, status="live")
    _, secret = factory.api_key(mine)
    response = client.get(
        f"/api/v1/campaigns/{foreign.id}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 404
    (entry,) = entries("access.other_workspace")
    assert (entry.workspace_id, entry.subject, entry.outcome) == (
        mine.id,
        f"campaign:{foreign.id}",
        "denied",
    )


def test_an_unknown_id_is_404_and_leaves_no_trace(client: FlaskClient, factory: Factory) -> None:
    _, secret = factory.api_key(factory.workspace())
    response = client.get("/api/v1/campaigns/999999", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404
    assert entries("access.other_workspace") == []


def test_a_marketer_opening_another_workspaces_campaign_is_audited(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    foreign = factory.campaign(factory.workspace(), status="live")
    assert browser.client.get(f"/admin/campaigns/{foreign.id}").status_code == 404
    (entry,) = entries("access.other_workspace")
    assert entry.workspace_id == workspace.id and entry.subject == f"campaign:{foreign.id}"
