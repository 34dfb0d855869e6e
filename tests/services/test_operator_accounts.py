"""The operator's ``create-admin`` as a service: how passwords are kept, and that a change of
role is audited. Signing in with the account is in tests/web/test_auth*.py."""

from __future__ import annotations

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry
from referral.services.accounts import create_admin
from tests.factories import Factory


def test_passwords_are_stored_as_scrypt_hashes(factory: Factory) -> None:
    result = create_admin("acme", "owner@acme.example", "a long enough password")
    assert result.marketer.password_hash.startswith("scrypt:")
    assert "a long enough password" not in result.marketer.password_hash


def test_a_role_change_by_the_operator_is_audited(factory: Factory) -> None:
    create_admin("acme", "boss@acme.example", "a long enough password", "owner")
    create_admin("acme", "boss@acme.example", None, "editor")
    db.session.commit()
    query = select(AuditEntry).where(AuditEntry.action.startswith("member."))
    changes = list(db.session.scalars(query.order_by(AuditEntry.id)))
    assert [(e.action, e.data) for e in changes] == [
        ("member.add", {"from": None, "to": "owner"}),
        ("member.role", {"from": "owner", "to": "editor"}),
    ]
