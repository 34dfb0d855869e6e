"""Sign-in hardening: throttling per address, common passwords, changing the password,
disabled members, and the security events each of these leaves in the audit log."""

from __future__ import annotations

import html
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import AuditEntry, Marketer
from referral.services.accounts import create_admin
from tests.conftest import Browser
from tests.factories import Factory
from tests.services.test_accounts import membership_of

NEW_PASSWORD = "orbit lantern meadow quartz"


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def entries(*where: Any) -> list[AuditEntry]:
    db.session.commit()  # see what the requests wrote
    return list(db.session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id)))


def browser_at(app: Flask, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


# Throttling per client address


def test_one_address_guessing_across_many_accounts_is_throttled_but_others_get_through(
    app: Flask, factory: Factory
) -> None:
    """Can one address try a password on each of 31 accounts? The 31st gets 429, and a
    marketer elsewhere still signs in."""
    owner, _ = factory.marketer()
    guesser = browser_at(app, "203.0.113.9")
    statuses = [
        guesser.login(f"person{n}@example.com", "wrong-password").status_code for n in range(30)
    ]
    assert statuses == [422] * 30
    response = guesser.login("person31@example.com", "wrong-password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    page = text_of(response)
    assert 'action="/login"' in page and 'name="password"' in page
    assert "Too many attempts from here. Wait 1 minute, then try again." in page
    assert "person31@example.com" in page  # the address typed is kept
    assert guesser.login(owner.email).status_code == 429  # whoever it names, for now
    elsewhere = browser_at(app, "198.51.100.7")
    assert elsewhere.login(owner.email).status_code == 302


def test_correct_passwords_never_use_the_address_limit_up(app: Flask, factory: Factory) -> None:
    """Does a busy office (one address, many sign-ins) get throttled? Not for succeeding."""
    people = [factory.marketer()[0] for _ in range(3)]
    for n in range(35):
        office = browser_at(app, "192.0.2.10")
        assert office.login(people[n % 3].email).status_code == 302, n
    assert browser_at(app, "192.0.2.10").login(people[0].email, "typo").status_code == 422


def test_the_address_limit_is_a_window_not_a_lock(
    app: Flask, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is the real owner, sharing the guesser's address, locked out for good? No: once the
    window has passed, the right password works again."""
    owner, _ = factory.marketer()
    shared = browser_at(app, "203.0.113.20")
    for n in range(30):
        shared.login(f"guess{n}@example.com", "wrong-password")
    assert shared.login(owner.email).status_code == 429
    later = time.time() + 2 * 60 * 60  # past the per-minute and the per-hour windows
    monkeypatch.setattr(time, "time", lambda: later)
    assert browser_at(app, "203.0.113.20").login(owner.email).status_code == 302


def test_the_address_limit_comes_from_the_configuration(app: Flask, factory: Factory) -> None:
    app.config["LOGIN_IP_RATE_LIMIT"] = "3 per minute"
    guesser = browser_at(app, "203.0.113.30")
    assert [guesser.login(f"x{n}@example.com", "nope-nope").status_code for n in range(4)] == [
        422,
        422,
        422,
        429,
    ]


def test_a_throttled_sign_in_is_audited_without_the_address_or_password(
    app: Flask, factory: Factory
) -> None:
    owner, _ = factory.marketer(email="victim.person@example.com")
    guesser = browser_at(app, "203.0.113.40")
    for _ in range(11):
        guesser.login(owner.email, "hunter2-wrong")
    throttled = entries(AuditEntry.outcome == "throttled")
    assert [(e.action, e.subject, e.actor) for e in throttled] == [
        ("auth.login", f"marketer:{owner.id}", "v…@example.com")
    ]
    assert throttled[0].ip_hash and "203.0.113.40" not in throttled[0].ip_hash


# Common passwords


# The strength rule itself: tests/unit/test_passwords.py.


def test_create_admin_refuses_a_common_password(runner: Any) -> None:
    result = runner.invoke(
        args=["create-admin", "--workspace", "acme", "--email", "a@acme.example",
              "--password", "password123"]
    )  # fmt: skip
    assert result.exit_code != 0
    assert result.output.count("This password is too common") == 1
    assert db.session.scalar(select(func.count()).select_from(Marketer)) == 0


# Changing the password


def test_changing_the_password_keeps_this_session_and_ends_every_other(
    app: Flask, browser: Browser, factory: Factory
) -> None:
    marketer, _ = factory.marketer()
    assert browser.login(marketer.email).status_code == 302
    laptop = Browser(app.test_client())
    assert laptop.login(marketer.email).status_code == 302
    page = browser.client.get("/account/password")
    assert page.status_code == 200 and "Current password" in text_of(page)
    form = {"current_password": Factory.PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    response = browser.post("/account/password", form, "/account/password")
    assert response.status_code == 302
    done = browser.client.get(response.headers["Location"])
    assert "Your password is changed. Every other session is signed out." in text_of(done)
    assert browser.client.get("/admin/campaigns").status_code == 200
    assert laptop.client.get("/admin/campaigns").status_code == 302
    assert Browser(app.test_client()).login(marketer.email).status_code == 422
    assert Browser(app.test_client()).login(marketer.email, NEW_PASSWORD).status_code == 302
    changed = entries(AuditEntry.action == "auth.password_change")
    assert [(e.outcome, e.marketer_id) for e in changed] == [("ok", marketer.id)]


def test_a_remembered_login_is_remembered_again_after_the_change(
    app: Flask, browser: Browser, factory: Factory
) -> None:
    marketer, _ = factory.marketer()
    token = browser.token("/login")
    data = {"email": marketer.email, "password": Factory.PASSWORD, "remember": "y"}
    browser.client.post("/login", data={**data, "csrf_token": token})
    old = browser.client.get_cookie("remember_token")
    assert old is not None
    form = {"current_password": Factory.PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    assert browser.post("/account/password", form, "/account/password").status_code == 302
    new = browser.client.get_cookie("remember_token")
    assert new is not None and new.value != old.value
    restored = app.test_client()
    restored.set_cookie("remember_token", new.value)
    assert restored.get("/admin/campaigns").status_code == 200
    stale = app.test_client()
    stale.set_cookie("remember_token", old.value)
    assert stale.get("/admin/campaigns").status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current_password": "not it at all", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
         "The current password is not right."),
        ({"current_password": Factory.PASSWORD, "password": NEW_PASSWORD, "repeat": "other"},
         "The two new passwords are not the same."),
        ({"current_password": Factory.PASSWORD, "password": "", "repeat": ""},
         "This field is required."),
        # A common password, the current one again, a short one: tests/services/test_accounts.py
    ],
)  # fmt: skip
def test_a_bad_password_change_re_renders_the_form_with_422_and_changes_nothing(
    app: Flask, browser: Browser, login_as: Any, form: dict[str, str], message: str
) -> None:
    marketer, _ = login_as("viewer")
    before = db.session.get(Marketer, marketer.id)
    assert before is not None
    token, digest = before.session_token, before.password_hash
    response = browser.post("/account/password", form, "/account/password")
    assert response.status_code == 422
    assert message in text_of(response)
    assert form["current_password"] not in response.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.get(Marketer, marketer.id)
    assert after is not None and (after.session_token, after.password_hash) == (token, digest)
    assert browser.client.get("/admin/campaigns").status_code == 200


def test_a_wrong_current_password_is_audited_and_throttled(browser: Browser, login_as: Any) -> None:
    marketer, _ = login_as("editor")
    form = {"current_password": "guess-guess", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    statuses = [
        browser.post("/account/password", form, "/account/password").status_code for _ in range(11)
    ]
    assert statuses == [422] * 10 + [429]
    again = browser.post("/account/password", form, "/account/password")
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    assert "Too many attempts from here." in text_of(again)
    assert "Current password" in text_of(again)
    failed = entries(AuditEntry.action == "auth.password_change")
    assert len(failed) == 10 and {e.outcome for e in failed} == {"failed"}
    assert all(e.marketer_id == marketer.id for e in failed)


def test_the_password_page_needs_a_signed_in_marketer(browser: Browser) -> None:
    response = browser.client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_admin_navigation_links_the_password_page(browser: Browser, login_as: Any) -> None:
    login_as("viewer")
    assert 'href="/account/password"' in text_of(browser.client.get("/admin/campaigns"))


# Members: disable and enable


def test_an_owner_sees_the_members_with_role_and_status(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    owner, workspace = login_as("owner")
    editor, _ = factory.marketer(role="editor", workspace=workspace)
    outsider, _ = factory.marketer(role="owner")
    page = text_of(browser.client.get("/admin/members"))
    assert owner.email in page and editor.email in page and outsider.email not in page
    assert "Editor" in page and "Enabled" in page
    assert f'/admin/members/{membership_of(editor, workspace).id}/disable"' in page
    assert f'/admin/members/{membership_of(owner, workspace).id}/disable"' not in page


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_owners_open_the_members_page_and_a_refusal_is_audited(
    browser: Browser, login_as: Any, factory: Factory, role: str
) -> None:
    marketer, workspace = login_as(role)
    other, _ = factory.marketer(role="editor", workspace=workspace)
    assert browser.client.get("/admin/members").status_code == 403
    target = membership_of(other, workspace).id
    assert browser.post(f"/admin/members/{target}/disable").status_code == 403
    assert membership_of(other, workspace).disabled_at is None
    denied = entries(AuditEntry.outcome == "denied")
    assert [(e.action, e.subject, e.workspace_id, e.marketer_id) for e in denied] == [
        ("admin.access", "admin.members", workspace.id, marketer.id),
        ("admin.access", "admin.disable_member", workspace.id, marketer.id),
    ]


def test_a_disabled_member_is_signed_out_at_once_and_let_back_in_when_enabled(
    app: Flask, browser: Browser, login_as: Any, factory: Factory
) -> None:
    owner, workspace = login_as("owner")
    editor, _ = factory.marketer(role="editor", workspace=workspace)
    mine = membership_of(owner, workspace).id
    refused = browser.post(f"/admin/members/{mine}/disable", form_page="/admin/members")
    assert refused.status_code == 409
    assert "You cannot disable your own membership." in text_of(refused)
    assert membership_of(owner, workspace).disabled_at is None
    assert browser.client.get("/admin/campaigns").status_code == 200
    theirs = Browser(app.test_client())
    assert theirs.login(editor.email).status_code == 302
    membership = membership_of(editor, workspace)
    response = browser.post(f"/admin/members/{membership.id}/disable", form_page="/admin/members")
    assert response.status_code == 302
    page = text_of(browser.client.get("/admin/members"))
    assert f"{editor.email} is disabled here and signed out." in page and "Disabled" in page
    assert membership_of(editor, workspace).disabled_at is not None
    assert theirs.client.get("/admin/campaigns").status_code == 302  # signed out
    assert theirs.login(editor.email).status_code == 302
    refused = theirs.client.get("/admin/campaigns")
    assert refused.status_code == 403
    assert "Your account is not a member of any workspace." in text_of(refused)
    enable = f"/admin/members/{membership.id}/enable"
    assert browser.post(enable, form_page="/admin/members").status_code == 302
    assert theirs.client.get("/admin/campaigns").status_code == 200
    logged = entries(AuditEntry.action.startswith("member."))
    assert [(e.action, e.subject, e.marketer_id, e.workspace_id) for e in logged] == [
        ("member.disable", f"marketer:{editor.id}", owner.id, workspace.id),
        ("member.enable", f"marketer:{editor.id}", owner.id, workspace.id),
    ]


# Who may disable whom, and which workspaces a disabled member keeps:
# tests/services/test_accounts.py.


def test_a_member_of_another_workspace_cannot_be_disabled(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    """Can an owner of workspace B disable a marketer of workspace A? No: 404."""
    login_as("owner")
    theirs, brand_a = factory.marketer(role="editor")
    target = membership_of(theirs, brand_a).id
    assert browser.post(f"/admin/members/{target}/disable").status_code == 404
    assert membership_of(theirs, brand_a).disabled_at is None


def test_disabling_without_a_csrf_token_changes_nothing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    editor, _ = factory.marketer(role="editor", workspace=workspace)
    target = membership_of(editor, workspace).id
    response = browser.client.post(f"/admin/members/{target}/disable")
    assert response.status_code in (302, 400)
    assert membership_of(editor, workspace).disabled_at is None


# Security events: what each sign-in leaves in the log, tests/services/test_accounts.py.


def test_the_operator_lets_a_disabled_member_back_in_with_create_admin(
    app: Flask, factory: Factory
) -> None:
    """Two owners disabled each other's way out? ``create-admin`` restores a membership."""
    first = create_admin("acme", "boss@acme.example", "a long enough password", "owner")
    membership = membership_of(first.marketer, first.workspace)
    membership.disabled_at = membership.created_at
    db.session.commit()
    create_admin("acme", "boss@acme.example", None, "owner")
    assert membership_of(first.marketer, first.workspace).disabled_at is None
    assert [e.action for e in entries(AuditEntry.action.startswith("member."))] == [
        "member.add",
        "member.enable",
    ]
    signed_in = browser_at(app, "192.0.2.50").login("boss@acme.example", "a long enough password")
    assert signed_in.status_code == 302
