"""The outbox: delivered by the worker only, each message with its own back-off until a
deadline, one claim per message, and a Message-ID that a resend keeps."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.base import utcnow
from referral.services import outbox
from tests.factories import Factory, free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(app: Flask) -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{controller.port}"
    app.config["MAIL_FROM"] = "news@brand.example"
    yield inbox
    controller.stop()


def _queue(factory: Factory, n: int = 1) -> list[OutboxMessage]:
    workspace = factory.workspace()
    rows = [
        outbox.queue(workspace.id, f"p{i}@example.com", "confirmation", outbox.Mail("Hi", "Text"))
        for i in range(n)
    ]
    db.session.commit()
    return rows


def _rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_each_message_goes_out_once_with_a_message_id_of_its_row(
    smtp: Inbox, factory: Factory
) -> None:
    rows = _queue(factory, 2)
    assert outbox.deliver_pending() == 2
    assert outbox.deliver_pending() == 0
    ids = [m["Message-ID"] for m in smtp.messages]
    assert ids == [outbox.message_id(r, "news@brand.example") for r in rows]
    assert all(i.endswith("@brand.example>") for i in ids) and len(set(ids)) == 2
    assert [r.status for r in _rows()] == ["sent", "sent"]


def test_an_unreachable_server_costs_one_attempt_and_the_run_stops(
    app: Flask, factory: Factory
) -> None:
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    _queue(factory, 8)
    assert outbox.deliver_pending() == 1  # the first refusal ends the run
    for _ in range(5):  # runs during the outage: the failed one waits its back-off
        outbox.deliver_pending()
    rows = _rows()
    assert all(r.attempts <= 1 for r in rows)
    assert rows[0].status == "failed" and rows[0].next_attempt_at is not None
    assert rows[0].next_attempt_at > utcnow() + timedelta(seconds=20)


def test_after_the_outage_every_message_is_delivered_once(
    app: Flask, smtp: Inbox, factory: Factory
) -> None:
    url = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    _queue(factory, 8)
    for _ in range(10):
        outbox.deliver_pending()
    app.config["MAIL_URL"] = url
    for row in _rows():  # the back-off has passed
        row.next_attempt_at = None if row.next_attempt_at is None else utcnow()
    db.session.commit()
    for _ in range(10):
        outbox.deliver_pending()
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"p{i}@example.com" for i in range(8))
    assert {r.status for r in _rows()} == {"sent"}


def test_back_off_doubles_per_message_up_to_an_hour() -> None:
    waits = [outbox.backoff(n) for n in range(1, 10)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits[-1] == timedelta(hours=1) and waits == sorted(waits)


def test_a_message_failing_past_the_deadline_is_marked_undeliverable(
    app: Flask, factory: Factory
) -> None:
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    (row,) = _queue(factory)
    row.created_at = utcnow() - outbox.RETRY_FOR - timedelta(minutes=1)
    db.session.commit()
    outbox.deliver_pending()
    (row,) = _rows()
    assert row.status == "undeliverable" and row.next_attempt_at is None


def test_a_send_left_by_a_killed_worker_goes_out_again_after_its_lease(
    smtp: Inbox, factory: Factory
) -> None:
    (row,) = _queue(factory)
    row.status, row.attempts = "sending", 1
    row.next_attempt_at = utcnow() + timedelta(minutes=1)  # lease still running
    db.session.commit()
    assert outbox.deliver_pending() == 0
    (row,) = _rows()
    row.next_attempt_at = utcnow() - timedelta(seconds=1)  # lease over: the worker died
    db.session.commit()
    assert outbox.deliver_pending() == 1
    (sent,) = smtp.messages
    assert sent["Message-ID"] == outbox.message_id(row, "news@brand.example")


def test_a_refused_recipient_does_not_stop_the_others(
    app: Flask, smtp: Inbox, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _queue(factory, 3)
    real = outbox._smtp_send

    def refuse_first(url: str, sender: str, message: OutboxMessage) -> None:
        if message.id == rows[0].id:
            raise smtplib.SMTPRecipientsRefused({message.to_address: (550, b"no such user")})
        real(url, sender, message)

    monkeypatch.setattr(outbox, "_smtp_send", refuse_first)
    assert outbox.deliver_pending() == 3
    assert [r.status for r in _rows()] == ["failed", "sent", "sent"]
