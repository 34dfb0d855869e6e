"""The outbox page: only the workspace's mail, filtered and paged; a message's text with the
service's own links clickable and its HTML in a sandboxed frame; sending again by owners
and editors only, and only for mail given up on."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from referral import emails
from referral.extensions import db
from referral.models import AuditEntry, OutboxMessage
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.conftest import Browser
from tests.factories import Factory
from tests.services.test_outbox_admin import message


def _status(message_id: int) -> str:
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message_id)
    assert row is not None
    return row.status


def test_the_outbox_lists_the_workspaces_mail_and_not_another_workspaces(
    login_as: Any, browser: Browser, factory: Factory
) -> None:
    """Can a marketer of workspace B see the mail of workspace A? No: neither in the list
    nor by its id."""
    _, mine = login_as("viewer")
    message(mine, "failed", subject="Welcome to Brand B", error="550 mailbox unavailable")
    theirs = message(factory.workspace(), "failed", to="secret@brand-a.example", subject="A's")
    page = browser.client.get("/admin/outbox")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Welcome to Brand B" in text and "550 mailbox unavailable" in text
    assert "secret@brand-a.example" not in text and "A&#39;s" not in text
    for path in (f"/admin/outbox/{theirs.id}", f"/admin/outbox/{theirs.id}/preview.html"):
        assert browser.client.get(path).status_code == 404, path


def test_the_filters_narrow_the_list_and_a_bad_one_answers_422(
    login_as: Any, browser: Browser
) -> None:
    _, workspace = login_as("viewer")
    message(workspace, "failed", subject="Failed one")
    message(workspace, "logged", kind="journey:marketing", subject="Logged one")
    failed = browser.client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Failed one" in failed and "Logged one" not in failed
    journey = browser.client.get("/admin/outbox?kind=journey:marketing").get_data(as_text=True)
    assert "Logged one" in journey and "Failed one" not in journey
    assert browser.client.get("/admin/outbox?status=lost").status_code == 422


def test_the_confirmation_mail_shows_its_link_to_click_and_the_hint_without_a_mail_server(
    app: Flask, login_as: Any, browser: Browser, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live")
    join_campaign(campaign, JoinRequest(email="ada@example.com"), Visitor(), emails.confirmation)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirmation"))
    assert row is not None
    listing = browser.client.get("/admin/outbox").get_data(as_text=True)
    assert 'data-testid="outbox-logged-only"' in listing
    assert f'href="/admin/outbox/{row.id}"' in listing
    detail = browser.client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    base = re.escape(app.config["PUBLIC_BASE_URL"])
    assert re.search(rf'<a href="{base}/confirm/[\w-]+" rel="noreferrer">', detail)
    assert f'src="/admin/outbox/{row.id}/preview.html"' in detail
    assert 'sandbox=""' in detail
    frame = browser.client.get(f"/admin/outbox/{row.id}/preview.html")
    assert frame.status_code == 200 and frame.mimetype == "text/html"
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert frame.get_data(as_text=True) == row.body_html
    app.config["MAIL_URL"] = "smtp://mail.example:25"
    assert 'data-testid="outbox-logged-only"' not in browser.client.get("/admin/outbox").text


def test_only_links_of_the_service_are_made_clickable(
    login_as: Any, browser: Browser, app: Flask
) -> None:
    _, workspace = login_as("viewer")
    base = app.config["PUBLIC_BASE_URL"]
    row = message(workspace, "logged")
    row.body_text = f"Yours: {base}/me/abc. Theirs: https://evil.example/x <b>bold</b>"
    db.session.commit()
    detail = browser.client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert f'<a href="{base}/me/abc" rel="noreferrer">{base}/me/abc</a>.' in detail
    assert 'href="https://evil.example' not in detail and "https://evil.example/x" in detail
    assert "&lt;b&gt;bold&lt;/b&gt;" in detail


def test_an_editor_sends_a_failed_message_again_and_it_is_audited(
    login_as: Any, browser: Browser
) -> None:
    marketer, workspace = login_as("editor")
    row = message(workspace, "failed", attempts=3, error="timed out")
    page = f"/admin/outbox/{row.id}"
    assert f'action="{page}/retry"' in browser.client.get(page).get_data(as_text=True)
    response = browser.post(f"{page}/retry", form_page=page)
    assert response.status_code == 302 and response.headers["Location"] == page
    assert _status(row.id) == "queued"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.retried"))
    assert entry is not None and entry.marketer_id == marketer.id
    assert "The message is queued again." in browser.client.get(page).get_data(as_text=True)


def test_sending_a_sent_message_again_is_refused_with_a_clear_message(
    login_as: Any, browser: Browser
) -> None:
    _, workspace = login_as("owner")
    row = message(workspace, "sent", attempts=1)
    page = f"/admin/outbox/{row.id}"
    assert f'action="{page}/retry"' not in browser.client.get(page).get_data(as_text=True)
    response = browser.post(f"{page}/retry", form_page=page)
    assert response.status_code == 302
    shown = html.unescape(browser.client.get(page).get_data(as_text=True))
    assert "Only a failed or undeliverable message can be sent again." in shown
    assert _status(row.id) == "sent"
    assert (
        db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "outbox.retried"))
        is None
    )


def test_a_viewer_reads_but_cannot_send_again(login_as: Any, browser: Browser) -> None:
    _, workspace = login_as("viewer")
    row = message(workspace, "undeliverable")
    page = f"/admin/outbox/{row.id}"
    assert f'action="{page}/retry"' not in browser.client.get(page).get_data(as_text=True)
    assert browser.post(f"{page}/retry", form_page=page).status_code == 403
    assert _status(row.id) == "undeliverable"


def test_the_navigation_leads_to_the_outbox(login_as: Any, browser: Browser) -> None:
    login_as("viewer")
    nav = browser.client.get("/admin/campaigns").get_data(as_text=True)
    assert 'href="/admin/outbox"' in nav
