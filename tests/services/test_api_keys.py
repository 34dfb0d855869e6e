"""API keys, asked of the api_keys service: a key's secret is given once and only its
SHA-256 is kept, a key needs a name, it authenticates until it is revoked (and no other key
with it), a revocation is kept and audited once, and a key's use is noted at most once a
minute. The keys page and the API's 401s are in tests/web/test_admin_api_keys.py and
tests/web/test_api_campaigns.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import ApiKey, AuditEntry, Marketer, Workspace
from referral.models.base import utcnow
from referral.services.api_keys import (
    authenticate_api_key,
    create_api_key,
    list_api_keys,
    record_use,
    revoke_api_key,
)
from tests.factories import Factory


def audited(action: str) -> list[AuditEntry]:
    db.session.commit()
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(db.session.scalars(query))


@pytest.fixture
def owner(factory: Factory) -> tuple[Marketer, Workspace]:
    return factory.marketer()


def test_a_new_key_gives_its_secret_once_and_keeps_only_its_sha256(
    owner: tuple[Marketer, Workspace],
) -> None:
    marketer, workspace = owner
    key, secret = create_api_key(workspace, "  Shop integration ", marketer)
    assert secret.startswith("rk_") and secret.startswith(key.prefix) and len(key.prefix) == 10
    assert (key.workspace_id, key.name, key.created_by_id) == (
        workspace.id, "Shop integration", marketer.id,
    )  # fmt: skip
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in db.session.execute(select(ApiKey.__table__)).one()]
    assert not any(secret in value for value in stored)
    [entry] = audited("api_key.create")
    assert (entry.subject, entry.workspace_id, entry.marketer_id, entry.data) == (
        f"api_key:{key.id}", workspace.id, marketer.id,
        {"name": "Shop integration", "prefix": key.prefix},
    )  # fmt: skip
    assert secret not in str(entry.data)


def test_two_keys_have_different_secrets(owner: tuple[Marketer, Workspace]) -> None:
    _, workspace = owner
    (_, first), (_, second) = create_api_key(workspace, "A"), create_api_key(workspace, "B")
    assert first != second


@pytest.mark.parametrize("name", ["", "   ", None, "x" * 121])
def test_a_key_needs_a_name_of_1_to_120_characters(
    owner: tuple[Marketer, Workspace], name: str
) -> None:
    _, workspace = owner
    with pytest.raises(ValidationFailed) as refused:
        create_api_key(workspace, name)
    assert list(refused.value.errors) == ["name"]
    db.session.rollback()
    assert db.session.scalars(select(ApiKey)).all() == []
    assert create_api_key(workspace, "x" * 120)[0].name == "x" * 120


def test_a_key_authenticates_until_it_is_revoked_and_the_others_keep_working(
    owner: tuple[Marketer, Workspace],
) -> None:
    _, workspace = owner
    first, first_secret = create_api_key(workspace, "First")
    second, second_secret = create_api_key(workspace, "Second")
    assert authenticate_api_key(first_secret) == first
    revoke_api_key(first)
    assert authenticate_api_key(first_secret) is None
    assert authenticate_api_key(second_secret) == second


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s + " ",
        lambda s: s.upper(),
        lambda s: s[:10],
        lambda s: "",
        lambda s: s + "x" * 200,
    ],
    ids=["one character changed", "a space after", "upper case", "the prefix", "empty", "long"],
)
def test_anything_but_the_exact_secret_authenticates_nothing(
    owner: tuple[Marketer, Workspace], change: object
) -> None:
    _, workspace = owner
    _, secret = create_api_key(workspace, "Shop")
    assert authenticate_api_key(change(secret)) is None  # type: ignore[operator]


def test_revoking_twice_keeps_the_first_time_and_audits_once(
    owner: tuple[Marketer, Workspace],
) -> None:
    marketer, workspace = owner
    key, _ = create_api_key(workspace, "Shop")
    first = revoke_api_key(key, marketer).revoked_at
    assert first is not None
    assert revoke_api_key(key, marketer).revoked_at == first
    [entry] = audited("api_key.revoke")
    assert (entry.subject, entry.marketer_id, entry.data) == (
        f"api_key:{key.id}", marketer.id, {"prefix": key.prefix},
    )  # fmt: skip


def test_a_keys_use_is_noted_and_audited_at_most_once_a_minute(
    owner: tuple[Marketer, Workspace],
) -> None:
    """Does the admin see when a key was last used? Yes, to the minute, and a busy key does
    not cost a database write on every call."""
    _, workspace = owner
    key, _ = create_api_key(workspace, "Shop")
    before = utcnow()
    record_use(key, ip_hash="h" * 64)
    db.session.commit()
    first = key.last_used_at
    assert first is not None and first >= before - timedelta(seconds=1)
    record_use(key, ip_hash="h" * 64)
    db.session.commit()
    assert key.last_used_at == first  # within the minute: not written again
    key.last_used_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    record_use(key)
    db.session.commit()
    assert key.last_used_at > utcnow() - timedelta(minutes=1)
    uses = audited("api_key.use")
    assert [(e.actor, e.ip_hash, e.workspace_id) for e in uses] == [
        (f"api_key:{key.prefix}", "h" * 64, workspace.id),
        (f"api_key:{key.prefix}", None, workspace.id),
    ]


def test_the_list_holds_the_workspaces_keys_newest_first(
    owner: tuple[Marketer, Workspace], factory: Factory
) -> None:
    _, workspace = owner
    older, _ = create_api_key(workspace, "Older")
    newer, _ = create_api_key(workspace, "Newer")
    revoke_api_key(older)
    create_api_key(factory.workspace(), "Another brand's")
    assert list_api_keys(workspace.id) == [newer, older]
