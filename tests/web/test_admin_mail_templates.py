"""The e-mail texts pages: every locale of the confirmation mail, a version written and
previewed by an editor, a viewer who reads only, and the built-in text back."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry
from referral.services import mail_templates
from tests.conftest import Browser

PAGE = "/admin/mails/confirmation/de"
FORM = {
    "subject": "Bitte bestätigen: {{ campaign.name }}",
    "text": "Hallo {{ customer.first_name }}, bitte hier: {{ confirm_url }}",
    "html": '<p><a href="{{ confirm_url }}">Bestätigen</a></p>',
}


def test_an_editor_writes_a_locale_previews_it_and_goes_back_to_the_built_in_text(
    login_as: Any, browser: Browser
) -> None:
    _, workspace = login_as("editor")
    listing = browser.client.get("/admin/mails").get_data(as_text=True)
    assert f'href="{PAGE}"' in listing
    assert 'data-testid="built-in"' in browser.client.get(PAGE).get_data(as_text=True)
    response = browser.post(PAGE, FORM, form_page=PAGE)
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    page = html.unescape(browser.client.get(PAGE).get_data(as_text=True))
    assert "Bitte bestätigen: Spring referral" in page
    assert "Hallo Anna, bitte hier: https://example.com/confirm/sample" in page
    frame = browser.client.get(f"{PAGE}/preview.html")
    assert frame.status_code == 200 and "sandbox" in frame.headers["Content-Security-Policy"]
    assert 'href="https://example.com/confirm/sample"' in frame.get_data(as_text=True)
    assert set(mail_templates.versions(workspace.id, "confirmation")) == {"de"}
    assert browser.post(f"{PAGE}/reset", form_page=PAGE).status_code == 302
    db.session.expire_all()
    assert mail_templates.versions(workspace.id, "confirmation") == {}


def test_a_version_with_a_name_the_mail_does_not_have_is_refused_with_422(
    login_as: Any, browser: Browser
) -> None:
    _, workspace = login_as("owner")
    response = browser.post(PAGE, {**FORM, "text": "{{ points }}"}, form_page=PAGE)
    assert response.status_code == 422
    assert "points is not available in messages" in html.unescape(response.get_data(as_text=True))
    assert mail_templates.versions(workspace.id, "confirmation") == {}


def test_a_viewer_previews_but_cannot_write(login_as: Any, browser: Browser) -> None:
    _, workspace = login_as("viewer")
    page = browser.client.get(PAGE).get_data(as_text=True)
    assert 'data-testid="preview"' in page and 'data-testid="mail-form"' not in page
    assert browser.post(PAGE, FORM, form_page=PAGE).status_code == 403
    assert mail_templates.versions(workspace.id, "confirmation") == {}


def test_an_unknown_mail_or_locale_is_404(login_as: Any, browser: Browser) -> None:
    login_as("owner")
    for path in ("/admin/mails/invoice/en", "/admin/mails/confirmation/xx"):
        assert browser.client.get(path).status_code == 404, path


def test_the_trial_reminder_and_the_winner_notice_are_listed_and_written_like_the_confirmation(
    login_as: Any, browser: Browser
) -> None:
    _, workspace = login_as("editor")
    listing = browser.client.get("/admin/mails").get_data(as_text=True)
    for mail in ("trial_ending", "draw_winner"):
        page = f"/admin/mails/{mail}/nl"
        assert f'href="{page}"' in listing
        start = html.unescape(browser.client.get(page).get_data(as_text=True))
        assert "https://example.com/" in start  # the preview of the starting text
    form = {"subject": "Bijna voorbij", "text": "Tot {{ ends_on }}: {{ trial_url }}", "html": ""}
    page = "/admin/mails/trial_ending/nl"
    assert browser.post(page, form, form_page=page).status_code == 302
    shown = html.unescape(browser.client.get(page).get_data(as_text=True))
    assert "Tot 1 May 2027: https://example.com/trial/sample" in shown
    refused = browser.post(
        "/admin/mails/draw_winner/nl", {**form, "text": "{{ confirm_url }}"}, form_page=page
    )
    assert refused.status_code == 422
    assert set(mail_templates.versions(workspace.id, "trial_ending")) == {"nl"}
    assert mail_templates.versions(workspace.id, "draw_winner") == {}


def test_a_change_and_a_return_to_the_built_in_text_are_audited_with_the_marketer(
    login_as: Any, browser: Browser
) -> None:
    marketer, workspace = login_as("editor")
    assert browser.post(PAGE, FORM, form_page=PAGE).status_code == 302
    assert browser.post(f"{PAGE}/reset", form_page=PAGE).status_code == 302
    assert browser.post(f"{PAGE}/reset", form_page=PAGE).status_code == 302  # none left
    db.session.expire_all()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("mail.%")).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.subject, e.marketer_id, e.workspace_id) for e in entries] == [
        ("mail.changed", "mail:confirmation", marketer.id, workspace.id),
        ("mail.reset", "mail:confirmation", marketer.id, workspace.id),
    ]
    assert entries[0].data == {"mail": "confirmation", "locale": "de", "campaign_id": None}
