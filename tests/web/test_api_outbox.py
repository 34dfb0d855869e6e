"""GET /api/v1/outbox, GET /api/v1/outbox/{id} and POST /api/v1/outbox/{id}/retry."""

from __future__ import annotations

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, OutboxMessage, Workspace
from tests.services.test_outbox_admin import message
from tests.web.conftest import Api, assert_problem


def test_the_list_pages_the_workspaces_mail_in_id_order_with_a_status_filter(
    api: Api, other_api: Api, workspace: Workspace
) -> None:
    campaign = api.campaign()
    api.join(campaign["id"], "ada@example.com")
    other_api.join(other_api.campaign()["id"], "eve@example.com")
    failed = message(workspace, "failed", error="550 no such user")
    everything = api.ok("GET", "/outbox")
    assert [m["to"] for m in everything["items"]] == ["ada@example.com", "ada@example.com"]
    assert everything["items"][0]["kind"] == "confirmation"
    assert everything["items"][0]["status"] == "queued"
    assert "text" not in everything["items"][0]
    first = api.ok("GET", "/outbox?limit=1")
    assert first["next_cursor"]
    second = api.ok("GET", f"/outbox?limit=1&cursor={first['next_cursor']}")
    assert second["items"][0]["id"] == str(failed.id) and second["next_cursor"] is None
    only = api.ok("GET", "/outbox?status=failed")["items"]
    assert [(m["id"], m["error"], m["attempts"]) for m in only] == [
        (str(failed.id), "550 no such user", 0)
    ]
    bad = assert_problem(api.get("/outbox?status=lost"), 422)
    assert "status" in bad["errors"]


def test_a_message_reads_with_its_parts(api: Api, workspace: Workspace) -> None:
    row = message(workspace, "logged", html="<p>Hi</p>")
    body = api.ok("GET", f"/outbox/{row.id}")
    assert (body["text"], body["html"], body["status"]) == ("Text", "<p>Hi</p>", "logged")
    assert body["created_at"].endswith("+00:00")


def test_retry_queues_a_failed_message_again_once_and_refuses_the_rest(
    api: Api, workspace: Workspace
) -> None:
    row = message(workspace, "undeliverable", attempts=9)
    again = api.ok("POST", f"/outbox/{row.id}/retry")
    assert (again["status"], again["attempts"]) == ("queued", 9)
    assert again["next_attempt_at"] is not None
    refused = assert_problem(api.post(f"/outbox/{row.id}/retry"), 409)
    assert refused["detail"] == "Only a failed or undeliverable message can be sent again."
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retried"))
    assert [e.actor.startswith("api-key:") for e in entries] == [True]
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == "queued"


def test_another_workspaces_message_is_404_for_reading_and_retrying(
    other_api: Api, workspace: Workspace
) -> None:
    row = message(workspace, "failed")
    assert_problem(other_api.get(f"/outbox/{row.id}"), 404)
    assert_problem(other_api.post(f"/outbox/{row.id}/retry"), 404)
    assert_problem(other_api.get("/outbox/0x1"), 404)
    assert other_api.ok("GET", "/outbox")["items"] == []
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == "failed"
