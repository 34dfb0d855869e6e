"""The demo's outbox: real confirmation mails in every state a marketer may meet, once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from referral.demo.outbox import STATES, seed_demo_outbox
from referral.demo.seed import seed_demo
from referral.extensions import db
from referral.models import OutboxMessage, Workspace


def _demo_mail() -> list[OutboxMessage]:
    db.session.commit()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.startswith("demo:outbox:"))
            .order_by(OutboxMessage.id)
        )
    )


def test_the_demo_has_confirmation_mail_in_each_state_once(app: Flask) -> None:
    seed_demo(participants=120)
    seeded = _demo_mail()
    assert [m.status for m in seeded] == [state[0] for state in STATES]
    assert {"queued", "sent", "logged", "failed", "undeliverable"} <= {m.status for m in seeded}
    assert all(m.kind == "confirmation" and "/confirm/" in m.body_text for m in seeded)
    failed = next(m for m in seeded if m.status == "failed")
    assert failed.error and failed.next_attempt_at is not None
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
    assert workspace is not None
    assert seed_demo_outbox(workspace.id) == 0
    seed_demo(participants=120)
    assert [m.id for m in _demo_mail()] == [m.id for m in seeded]
