"""The demo's privacy request: a customer's export link in the outbox, whose link works,
and the request in the audit log, seeded once."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from referral.demo.privacy import seed_demo_privacy_request
from referral.demo.seed import seed_demo
from referral.extensions import db
from referral.models import AuditEntry, OutboxMessage, Workspace
from referral.services import privacy_requests


def test_the_demo_holds_one_working_export_link_and_its_audit_entries(app: Flask) -> None:
    seed_demo(participants=60)
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "privacy:export"))
    found = re.search(r"/privacy/link/([A-Za-z0-9_-]+)", mail.body_text)
    assert found is not None
    opened = privacy_requests.open_link(found.group(1))
    assert opened.request.kind == "export" and opened.customer.id == mail.customer_id
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject == f"customer:{mail.customer_id}")
    ).all()
    assert {"privacy.export.requested", "privacy.export.mailed"} <= set(actions)
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
    assert workspace is not None
    assert seed_demo_privacy_request(workspace.id) is False
    seed_demo(participants=60)
    assert (
        len(
            db.session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.kind == "privacy:export")
            ).all()
        )
        == 1
    )
