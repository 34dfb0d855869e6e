"""Marketers' sign-ins, password changes, admins made by the operator and the members of a
workspace, asked of the accounts and members services: who is let in, what each attempt
leaves in the audit log (never a password, never a whole address), which sessions end, and
who may disable whom. Throttling, forms and pages are in tests/web/test_auth*.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry, Marketer, Membership, Workspace
from referral.services.accounts import (
    authenticate,
    change_password,
    create_admin,
    end_sessions,
    find_workspace,
    load_by_session_token,
    login_throttled,
    memberships_of,
    set_password,
)
from referral.services.members import list_members, member_ids, set_disabled
from tests.factories import Factory

NEW_PASSWORD = "orbit lantern meadow quartz"
IP_HASH = "a" * 64


def entries(*where: object) -> list[AuditEntry]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id)))


def membership_of(marketer: Marketer, workspace: Workspace) -> Membership:
    db.session.commit()
    found = db.session.scalar(
        select(Membership).where(
            Membership.marketer_id == marketer.id, Membership.workspace_id == workspace.id
        )
    )
    assert found is not None
    return found


# --- signing in ----------------------------------------------------------------------------


def test_the_right_password_lets_the_marketer_in_and_is_audited(factory: Factory) -> None:
    marketer, _ = factory.marketer(email="ann.smith@example.com")
    assert marketer.last_login_at is None
    assert authenticate("  Ann.Smith@Example.com ", Factory.PASSWORD, ip_hash=IP_HASH) == marketer
    assert db.session.get(Marketer, marketer.id).last_login_at is not None
    [entry] = entries(AuditEntry.action == "auth.login")
    assert (entry.outcome, entry.subject, entry.actor, entry.marketer_id, entry.ip_hash) == (
        "ok", f"marketer:{marketer.id}", f"marketer:{marketer.id}", marketer.id, IP_HASH,
    )  # fmt: skip


def test_sign_ins_are_audited_with_a_masked_address_and_never_a_password(
    factory: Factory,
) -> None:
    marketer, _ = factory.marketer(email="ann.smith@example.com")
    assert authenticate(marketer.email, "wrong horse battery", ip_hash=IP_HASH) is None
    assert authenticate("nobody.here@example.org", "another wrong one", ip_hash=IP_HASH) is None
    assert authenticate(marketer.email, Factory.PASSWORD, ip_hash=IP_HASH) == marketer
    logged = entries(AuditEntry.action == "auth.login")
    assert [(e.outcome, e.subject, e.actor, e.marketer_id) for e in logged] == [
        ("failed", f"marketer:{marketer.id}", "a…@example.com", None),
        ("failed", "account:unknown", "n…@example.org", None),
        ("ok", f"marketer:{marketer.id}", f"marketer:{marketer.id}", marketer.id),
    ]
    assert all(e.ip_hash == IP_HASH for e in logged)
    stored = " ".join(f"{e.actor} {e.subject} {e.data} {e.ip_hash}" for e in entries())
    for secret in ("ann.smith", "nobody.here", "wrong horse", "another wrong", Factory.PASSWORD):
        assert secret not in stored


@pytest.mark.parametrize("password", ["", None, Factory.PASSWORD.upper(), Factory.PASSWORD + " "])
def test_anything_but_the_exact_password_is_refused(factory: Factory, password: str) -> None:
    marketer, _ = factory.marketer()
    assert authenticate(marketer.email, password) is None
    assert db.session.get(Marketer, marketer.id).last_login_at is None


def test_a_throttled_sign_in_is_audited_without_the_address_or_password(
    factory: Factory,
) -> None:
    owner, _ = factory.marketer(email="victim.person@example.com")
    login_throttled(" Victim.Person@example.com", ip_hash=IP_HASH)
    login_throttled("stranger@example.net", ip_hash=IP_HASH)
    throttled = entries(AuditEntry.outcome == "throttled")
    assert [(e.action, e.subject, e.actor, e.ip_hash) for e in throttled] == [
        ("auth.login", f"marketer:{owner.id}", "v…@example.com", IP_HASH),
        ("auth.login", "account:unknown", "s…@example.net", IP_HASH),
    ]


def test_a_session_token_names_its_marketer_until_their_sessions_end(factory: Factory) -> None:
    marketer, _ = factory.marketer()
    token = marketer.session_token
    assert load_by_session_token(token) == marketer
    assert load_by_session_token("") is None
    end_sessions(marketer)
    assert load_by_session_token(token) is None
    assert load_by_session_token(marketer.session_token) == marketer


# --- changing the password -----------------------------------------------------------------


def test_changing_the_password_ends_every_session_and_is_audited(factory: Factory) -> None:
    marketer, _ = factory.marketer()
    token, digest = marketer.session_token, marketer.password_hash
    change_password(marketer, Factory.PASSWORD, NEW_PASSWORD, ip_hash=IP_HASH)
    assert load_by_session_token(token) is None
    assert marketer.password_hash != digest
    assert authenticate(marketer.email, Factory.PASSWORD) is None
    assert authenticate(marketer.email, NEW_PASSWORD) == marketer
    changed = entries(AuditEntry.action == "auth.password_change")
    assert [(e.outcome, e.marketer_id, e.ip_hash) for e in changed] == [
        ("ok", marketer.id, IP_HASH)
    ]


@pytest.mark.parametrize(
    ("current", "new", "field", "message"),
    [
        ("not it at all", NEW_PASSWORD, "current_password", "The current password is not right."),
        (Factory.PASSWORD, "password123", "password", "This password is too common"),
        (Factory.PASSWORD, Factory.PASSWORD, "password",
         "Choose a new password, not the one you have now."),
        (Factory.PASSWORD, "short", "password", "Use at least 10 characters"),
        (Factory.PASSWORD, "", "password", "Use at least 10 characters"),
    ],
)  # fmt: skip
def test_a_bad_password_change_names_the_field_and_changes_nothing(
    factory: Factory, current: str, new: str, field: str, message: str
) -> None:
    marketer, _ = factory.marketer()
    token, digest = marketer.session_token, marketer.password_hash
    with pytest.raises(ValidationFailed) as refused:
        change_password(marketer, current, new)
    assert list(refused.value.errors) == [field]
    assert message in refused.value.errors[field][0]
    db.session.rollback()
    db.session.expire_all()
    after = db.session.get(Marketer, marketer.id)
    assert (after.session_token, after.password_hash) == (token, digest)
    assert entries(AuditEntry.action == "auth.password_change", AuditEntry.outcome == "ok") == []


def test_a_wrong_current_password_is_audited_as_a_failed_change(factory: Factory) -> None:
    marketer, _ = factory.marketer()
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            change_password(marketer, "guess-guess", NEW_PASSWORD, ip_hash=IP_HASH)
    failed = entries(AuditEntry.action == "auth.password_change")
    assert [(e.outcome, e.marketer_id, e.ip_hash) for e in failed] == [
        ("failed", marketer.id, IP_HASH)
    ] * 3


@pytest.mark.parametrize("word", ["email", "name", "workspace name", "workspace slug"])
def test_a_new_password_made_of_the_marketers_own_words_is_refused(
    factory: Factory, word: str
) -> None:
    workspace = factory.workspace(name="Wunderbarkeit", slug="quixotically")
    marketer, _ = factory.marketer(workspace=workspace, email="zebulon.quartermain@example.com")
    marketer.name = "Ottoline Featherstonehaugh"
    db.session.commit()
    personal = {
        "email": "zebulon.quartermain@example.com",
        "name": "Ottoline Featherstonehaugh",
        "workspace name": "Wunderbarkeit",
        "workspace slug": "quixotically",
    }[word]
    with pytest.raises(ValidationFailed) as refused:
        set_password(marketer, personal + "1")
    assert "contains your e-mail address or name" in refused.value.errors["password"][0]


# --- admins made by the operator -----------------------------------------------------------


def test_create_admin_makes_the_workspace_and_a_generated_password_given_once(
    factory: Factory,
) -> None:
    made = create_admin("Acme", "Boss@Acme.example")
    assert made.created and made.password and len(made.password) >= 16
    assert (made.workspace.slug, made.workspace.name, made.marketer.email) == (
        "acme", "Acme", "boss@acme.example",
    )  # fmt: skip
    assert made.password not in made.marketer.password_hash
    assert authenticate("boss@acme.example", made.password) == made.marketer
    assert find_workspace(" ACME ") == made.workspace
    again = create_admin("acme", "boss@acme.example", role="viewer")
    assert (again.created, again.password, again.marketer.id) == (False, None, made.marketer.id)
    assert authenticate("boss@acme.example", made.password) == made.marketer  # kept
    assert [(e.action, e.data) for e in entries(AuditEntry.action.startswith("member."))] == [
        ("member.add", {"from": None, "to": "owner"}),
        ("member.role", {"from": "owner", "to": "viewer"}),
    ]


def test_create_admin_with_the_same_role_again_records_nothing_new(factory: Factory) -> None:
    create_admin("acme", "boss@acme.example", "a long enough password", "editor")
    create_admin("acme", "boss@acme.example", None, "editor")
    assert len(entries(AuditEntry.action.startswith("member."))) == 1


def test_create_admin_refuses_a_short_password_and_a_bad_address(factory: Factory) -> None:
    with pytest.raises(ValidationFailed) as short:
        create_admin("acme", "boss@acme.example", "short")
    assert "password" in short.value.errors
    with pytest.raises(ValidationFailed):
        create_admin("acme", "not an address", "a long enough password")
    db.session.rollback()
    assert db.session.scalars(select(Marketer)).all() == []


# --- members: listing, disabling and enabling ----------------------------------------------


def test_the_members_are_the_workspaces_own_with_role_and_status(factory: Factory) -> None:
    owner, workspace = factory.marketer()
    editor, _ = factory.marketer(role="editor", workspace=workspace)
    factory.marketer(role="owner")  # another workspace's
    set_disabled(workspace, membership_of(editor, workspace), owner, True)
    members = list_members(workspace.id)
    assert [(m.marketer_id, m.email, m.role, m.disabled) for m in members] == [
        (owner.id, owner.email, "owner", False),
        (editor.id, editor.email, "editor", True),
    ]
    assert member_ids(workspace.id) == [owner.id, editor.id]


def test_disabling_a_member_ends_their_sessions_and_enabling_lets_them_back(
    factory: Factory,
) -> None:
    owner, workspace = factory.marketer()
    editor, _ = factory.marketer(role="editor", workspace=workspace)
    token = editor.session_token
    membership = membership_of(editor, workspace)
    assert set_disabled(workspace, membership, owner, True, ip_hash=IP_HASH) is True
    assert membership_of(editor, workspace).disabled_at is not None
    assert load_by_session_token(token) is None
    assert memberships_of(editor) == []
    assert set_disabled(workspace, membership, owner, True) is False  # already: nothing more
    assert set_disabled(workspace, membership, owner, False) is True
    assert memberships_of(editor) == [membership]
    assert set_disabled(workspace, membership, owner, False) is False
    logged = entries(AuditEntry.action.startswith("member."))
    assert [(e.action, e.subject, e.marketer_id, e.workspace_id, e.data) for e in logged] == [
        ("member.disable", f"marketer:{editor.id}", owner.id, workspace.id, {"role": "editor"}),
        ("member.enable", f"marketer:{editor.id}", owner.id, workspace.id, {"role": "editor"}),
    ]
    assert logged[0].ip_hash == IP_HASH


def test_a_member_disabled_in_one_workspace_keeps_the_others(factory: Factory) -> None:
    owner, first = factory.marketer()
    marketer, second = factory.marketer(role="editor")
    db.session.add(Membership(workspace_id=first.id, marketer_id=marketer.id, role="viewer"))
    db.session.commit()
    set_disabled(first, membership_of(marketer, first), owner, True)
    assert [m.workspace_id for m in memberships_of(marketer)] == [second.id]


def test_an_owner_cannot_disable_themselves(factory: Factory) -> None:
    owner, workspace = factory.marketer()
    token = owner.session_token
    with pytest.raises(Conflict) as refused:
        set_disabled(workspace, membership_of(owner, workspace), owner, True)
    assert refused.value.message == "You cannot disable your own membership."
    assert membership_of(owner, workspace).disabled_at is None
    assert load_by_session_token(token) == owner
    assert entries(AuditEntry.action.startswith("member.")) == []
