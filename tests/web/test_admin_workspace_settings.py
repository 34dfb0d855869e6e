"""The workspace's settings page: owners change the cap on marketing mail from journeys,
a bad number re-renders the form with a clear message (never a 500), the others read it,
and the journeys list states it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from referral.domain.consent_topics import Cap
from referral.extensions import db
from referral.models import AuditEntry
from referral.services.workspace_settings import mail_cap
from tests.conftest import Browser

PAGE = "/admin/settings"
SAVE = "/admin/settings/mail-cap"


def save(browser: Browser, limit: Any, days: Any) -> Any:
    return browser.post(SAVE, {"limit": limit, "days": days}, form_page=PAGE)


def test_an_owner_changes_the_cap_and_the_journeys_list_states_it(
    browser: Browser, login_as: Any
) -> None:
    _owner, workspace = login_as("owner")
    page = browser.client.get(PAGE).get_data(as_text=True)
    assert 'name="limit"' in page and 'value="3"' in page and 'value="7"' in page
    journeys = browser.client.get("/admin/journeys").get_data(as_text=True)
    assert "At most 3 marketing messages per customer in 7 days." in journeys
    response = save(browser, "1", "14")
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    db.session.rollback()
    assert mail_cap(workspace.id) == Cap(1, 14)
    journeys = browser.client.get("/admin/journeys").get_data(as_text=True)
    assert "At most 1 marketing message per customer in 14 days." in journeys
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workspace.mail_cap"))
    assert entry.one().data["limit"] == 1


@pytest.mark.parametrize(
    ("limit", "days", "message"),
    [
        ("0", "7", "Give from 1 to 50 messages."),
        ("51", "7", "Give from 1 to 50 messages."),
        ("", "7", "Give from 1 to 50 messages."),
        ("3", "0", "Give from 1 to 90 days."),
        ("3", "91", "Give from 1 to 90 days."),
        ("3", "", "Give from 1 to 90 days."),
    ],
)
def test_a_number_out_of_range_re_renders_the_form_with_its_message(
    browser: Browser, login_as: Any, limit: str, days: str, message: str
) -> None:
    _owner, workspace = login_as("owner")
    response = save(browser, limit, days)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'name="limit"' in page
    db.session.rollback()
    assert mail_cap(workspace.id) == Cap(3, 7)


@pytest.mark.parametrize("value", ["abc", "1e3", "9" * 40, "-1"])
def test_what_is_not_a_whole_number_is_refused_without_a_500(
    browser: Browser, login_as: Any, value: str
) -> None:
    _owner, workspace = login_as("owner")
    assert save(browser, value, "7").status_code == 422
    assert save(browser, "3", value).status_code == 422
    db.session.rollback()
    assert mail_cap(workspace.id) == Cap(3, 7)


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_a_member_who_is_not_an_owner_reads_the_cap_but_cannot_change_it(
    browser: Browser, login_as: Any, role: str
) -> None:
    _marketer, workspace = login_as(role)
    page = browser.client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "At most 3 marketing messages per customer in 7 days." in text
    assert 'name="limit"' not in text
    assert save(browser, "1", "7").status_code == 403
    db.session.rollback()
    assert mail_cap(workspace.id) == Cap(3, 7)
