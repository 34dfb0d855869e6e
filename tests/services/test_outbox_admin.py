"""The outbox as marketers read it: one workspace's messages, newest first, filtered; a
failed or undeliverable message queued again once, audited, and the worker woken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from referral.domain.errors import Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry, OutboxMessage, Workspace
from referral.models.base import utcnow
from referral.services import outbox, outbox_admin, wakeups
from tests.factories import Factory


def message(
    workspace: Workspace,
    status: str = "queued",
    kind: str = "confirmation",
    to: str = "ada@example.com",
    **values: Any,
) -> OutboxMessage:
    """An outbox row of ``workspace`` in ``status`` (as the worker would have left it)."""
    mail = outbox.Mail(values.pop("subject", f"A {kind}"), "Text", values.pop("html", ""))
    row = outbox.queue(workspace.id, to, kind, mail)
    db.session.flush()
    for name, value in {"status": status, **values}.items():
        setattr(row, name, value)
    db.session.commit()
    return row


def test_the_list_holds_only_the_workspaces_messages_newest_first(factory: Factory) -> None:
    mine, theirs = factory.workspace(), factory.workspace()
    now = utcnow()
    old = message(mine, created_at=now - timedelta(hours=2))
    new = message(mine, created_at=now - timedelta(hours=1))
    message(theirs, to="eve@example.com")
    page = outbox_admin.list_messages(mine.id, outbox_admin.Filters())
    assert [m.id for m in page.rows] == [new.id, old.id]
    assert page.total == 2


def test_the_list_is_filtered_by_status_and_kind(factory: Factory) -> None:
    workspace = factory.workspace()
    failed = message(workspace, "failed", error="550 no such user")
    message(workspace, "sent")
    journey = message(workspace, "failed", kind="journey:marketing")
    by_status = outbox_admin.list_messages(workspace.id, outbox_admin.Filters(status="failed"))
    assert {m.id for m in by_status.rows} == {failed.id, journey.id}
    both = outbox_admin.Filters(status="failed", kind="journey:marketing")
    assert [m.id for m in outbox_admin.list_messages(workspace.id, both).rows] == [journey.id]
    assert outbox_admin.kinds_in(workspace.id) == ["confirmation", "journey:marketing"]


def test_pages_hold_fifty_and_a_page_past_the_last_is_the_last(factory: Factory) -> None:
    workspace = factory.workspace()
    for n in range(outbox_admin.PER_PAGE + 3):
        outbox.queue(workspace.id, f"p{n}@example.com", "confirmation", outbox.Mail("Hi", "T"))
    db.session.commit()
    first = outbox_admin.list_messages(workspace.id, outbox_admin.Filters(), 1)
    last = outbox_admin.list_messages(workspace.id, outbox_admin.Filters(), 9)
    assert len(first.rows) == outbox_admin.PER_PAGE and last.page == 2 and len(last.rows) == 3
    assert not {m.id for m in first.rows} & {m.id for m in last.rows}


def test_another_workspaces_message_is_not_found(factory: Factory) -> None:
    theirs = message(factory.workspace(), "failed")
    mine = factory.workspace()
    with pytest.raises(NotFound):
        outbox_admin.find_message(mine.id, theirs.id)
    with pytest.raises(NotFound):
        outbox_admin.retry_message(mine.id, theirs.id)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, theirs.id).status == "failed"


@pytest.mark.parametrize("status", ["failed", "undeliverable"])
def test_a_message_given_up_on_is_queued_again_due_now_and_audited(
    factory: Factory, status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = factory.workspace()
    marketer, _ = factory.marketer(workspace=workspace)
    row = message(workspace, status, attempts=7, error="timed out", next_attempt_at=None)
    woken: list[str] = []
    monkeypatch.setitem(wakeups._hooks, "mail", lambda: woken.append("mail"))
    before = utcnow()
    outbox_admin.retry_message(workspace.id, row.id, marketer_id=marketer.id, ip_hash="h")
    db.session.expire_all()
    again = db.session.get(OutboxMessage, row.id)
    assert again is not None and again.status == "queued"
    assert again.next_attempt_at is not None and again.next_attempt_at >= before
    assert (again.attempts, again.error) == (7, "timed out")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.retried"))
    assert entry is not None and entry.subject == f"outbox:{row.id}"
    assert (entry.workspace_id, entry.marketer_id) == (workspace.id, marketer.id)
    assert entry.data["from"] == status
    assert woken == ["mail"]


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "logged"])
def test_a_message_that_is_not_given_up_on_is_refused_and_nothing_changes(
    factory: Factory, status: str
) -> None:
    workspace = factory.workspace()
    sent_at = utcnow() if status in ("sent", "logged") else None
    row = message(workspace, status, attempts=1, sent_at=sent_at)
    with pytest.raises(Conflict) as refused:
        outbox_admin.retry_message(workspace.id, row.id)
    assert refused.value.template == outbox_admin.NOT_RETRYABLE
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == status
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_a_message_queued_again_is_sent_by_the_next_run(factory: Factory) -> None:
    workspace = factory.workspace()
    row = message(workspace, "undeliverable", created_at=utcnow() - timedelta(days=3))
    outbox_admin.retry_message(workspace.id, row.id)
    assert outbox.deliver_pending() == 1
    db.session.expire_all()
    sent = db.session.get(OutboxMessage, row.id)
    assert sent is not None and sent.status == "logged" and sent.sent_at is not None


def test_the_api_page_walks_the_workspaces_messages_in_id_order(factory: Factory) -> None:
    workspace = factory.workspace()
    rows = [message(workspace, status) for status in ("failed", "sent", "failed")]
    message(factory.workspace(), "failed")
    first = outbox_admin.message_page(workspace.id, "failed", 1, None)
    assert [m.id for m in first.items] == [rows[0].id] and first.next_cursor
    second = outbox_admin.message_page(workspace.id, "failed", 1, first.next_cursor)
    assert [m.id for m in second.items] == [rows[2].id] and second.next_cursor is None
    with pytest.raises(ValidationFailed) as bad:
        outbox_admin.message_page(workspace.id, "lost", None, None)
    assert set(bad.value.errors) == {"status"}
