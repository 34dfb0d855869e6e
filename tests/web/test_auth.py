"""Marketer login, logout, CSRF, `next` and throttling."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry
from tests.conftest import Browser
from tests.factories import Factory


def test_a_marketer_signs_in_and_reaches_the_admin(browser: Browser, factory: Factory) -> None:
    marketer, _ = factory.marketer()
    response = browser.login(marketer.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = browser.client.get("/admin/campaigns")
    assert page.status_code == 200
    assert marketer.email in page.get_data(as_text=True)


def test_a_wrong_password_or_an_unknown_email_re_renders_the_form_with_one_message(
    browser: Browser, factory: Factory
) -> None:
    """What each attempt leaves in the audit log: tests/services/test_accounts.py."""
    marketer, _ = factory.marketer()
    response = browser.login(marketer.email, "not the password")
    assert response.status_code == 422
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert browser.client.get("/admin/campaigns").status_code == 302
    response = browser.login("nobody@example.com", "whatever-password")
    assert response.status_code == 422
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    db.session.commit()
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login"))
    hashes = [e.ip_hash for e in logged]
    assert len(hashes) == 2 and all(h and len(h) == 64 for h in hashes)


def test_a_login_post_without_csrf_token_is_rejected(browser: Browser, factory: Factory) -> None:
    marketer, _ = factory.marketer()
    response = browser.client.post(
        "/login", data={"email": marketer.email, "password": Factory.PASSWORD}
    )
    assert response.status_code in (400, 422)
    assert browser.client.get("/admin/campaigns").status_code == 302


def test_the_admin_redirects_anonymous_visitors_to_login_with_next(browser: Browser) -> None:
    response = browser.client.get("/admin/campaigns")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "target",
    # Every target the rule refuses: tests/unit/test_security.py.
    ["https://evil.example/", "/\\evil.example"],
)
def test_next_never_redirects_off_site(browser: Browser, factory: Factory, target: str) -> None:
    marketer, _ = factory.marketer()
    token = browser.token("/login")
    response = browser.client.post(
        "/login",
        data={
            "email": marketer.email,
            "password": Factory.PASSWORD,
            "next": target,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_next_to_a_local_page_is_followed(browser: Browser, factory: Factory) -> None:
    marketer, _ = factory.marketer()
    token = browser.token("/login")
    response = browser.client.post(
        "/login",
        data={
            "email": marketer.email,
            "password": Factory.PASSWORD,
            "next": "/admin/api-keys",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/admin/api-keys"


def test_logout_ends_the_session_even_for_a_copied_cookie(
    app, browser: Browser, factory: Factory
) -> None:
    """Can a stolen copy of the session cookie still be used after logout? It must not."""
    marketer, _ = factory.marketer()
    browser.login(marketer.email)
    stolen = browser.client.get_cookie("session")
    assert stolen is not None
    response = browser.post("/logout")
    assert response.status_code == 302
    assert browser.client.get("/admin/campaigns").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/admin/campaigns").status_code == 302


def test_session_cookie_is_httponly_and_samesite(browser: Browser, factory: Factory) -> None:
    marketer, _ = factory.marketer()
    response = browser.login(marketer.email)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_repeated_failures_throttle_the_guesser_but_not_the_owner(app, factory: Factory) -> None:
    """Can an attacker lock the real owner out by failing logins? No: only their address slows."""
    marketer, _ = factory.marketer()
    attacker = Browser(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = [attacker.login(marketer.email, "wrong-password").status_code for _ in range(12)]
    assert statuses[:10] == [422] * 10
    assert statuses[-1] == 429
    owner = Browser(app.test_client())
    owner.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert owner.login(marketer.email).status_code == 302


def test_a_throttled_answer_says_when_to_retry(app, factory: Factory) -> None:
    marketer, _ = factory.marketer()
    attacker = Browser(app.test_client())
    for _ in range(10):
        attacker.login(marketer.email, "wrong-password")
    response = attacker.login(marketer.email, "wrong-password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
