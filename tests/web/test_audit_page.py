"""The owners' audit log page: scoped to the workspace, filtered, paginated, exported."""

from __future__ import annotations

import csv
import html
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Marketer, Workspace
from tests.conftest import Browser
from tests.services.test_audit_log import DAY, entry


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def table_of(response: Any) -> str:
    """The log's table, or "" when the page shows none."""
    page = text_of(response)
    marker = 'data-testid="audit"'
    return page.split(marker, 1)[1].split("</table>", 1)[0] if marker in page else ""


@pytest.fixture
def owner(login_as: Any) -> tuple[Marketer, Workspace]:
    return login_as("owner")


# Which entries the log holds, newest first, how the filters narrow it, its pages and the
# CSV's cells: tests/services/test_audit_log.py; the filter form's refusals:
# tests/unit/test_audit_filter_form.py. Here: the page and the download show them.


def test_an_owner_reads_the_workspace_log_newest_first_in_utc(
    browser: Browser, owner: tuple[Marketer, Workspace]
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.participants", DAY, marketer_id=marketer.id)
    entry(workspace, "review.reject", DAY + timedelta(hours=1), subject="participation:7")
    page = browser.client.get("/admin/audit")
    table = table_of(page)
    assert table.index("review.reject") < table.index("export.participants")
    assert "2026-03-10 13:00:00" in table and "2026-03-10 12:00:00" in table
    assert marketer.email in table  # the actor, by their address
    assert "participation:7" in table and "Done" in table
    assert "Time (UTC)" in table
    nav = text_of(browser.client.get("/admin/campaigns"))
    assert 'href="/admin/audit"' in nav and 'href="/admin/members"' in nav


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_owners_read_the_log(browser: Browser, login_as: Any, role: str) -> None:
    login_as(role)
    assert browser.client.get("/admin/audit").status_code == 403
    assert browser.client.get("/admin/audit.csv").status_code == 403
    page = text_of(browser.client.get("/admin/campaigns"))
    assert 'href="/admin/audit"' not in page and 'href="/admin/members"' not in page


@pytest.mark.parametrize("query", ["date_from=2026-13-40", "action=no.such.action"])
def test_a_bad_filter_re_renders_the_form_with_422(
    browser: Browser, owner: tuple[Marketer, Workspace], query: str
) -> None:
    _, workspace = owner
    entry(workspace, "export.ledger", DAY)
    response = browser.client.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    page = text_of(response)
    assert 'role="alert"' in page and 'name="date_from"' in page
    assert table_of(response) == ""
    assert browser.client.get(f"/admin/audit.csv?{query}").status_code == 422
    exports = select(AuditEntry).where(AuditEntry.action == "export.audit")
    db.session.commit()
    assert db.session.scalars(exports).all() == []


def test_the_log_is_paginated(browser: Browser, owner: tuple[Marketer, Workspace]) -> None:
    _, workspace = owner
    for n in range(60):
        entry(workspace, "review.approve", DAY + timedelta(minutes=n), subject=f"participation:{n}")
    first = browser.client.get("/admin/audit?action=review.approve")
    assert table_of(first).count("<tr>") == 51  # header + 50
    page = text_of(first)
    assert "60 entries" in page and "Page 1 of 2" in page
    following = page.split('rel="next" href="', 1)[1].split('"', 1)[0]
    assert following == "/admin/audit?page=2&action=review.approve" or (
        following == "/admin/audit?action=review.approve&page=2"
    )
    second = table_of(browser.client.get("/admin/audit?action=review.approve&page=2"))
    assert second.count("<tr>") == 11
    assert "participation:9<" in second and "participation:10<" not in second
    assert (
        table_of(browser.client.get("/admin/audit?action=review.approve&page=999")).count("<tr>")
        == 11
    )  # past the end: the last page


def test_a_filtered_log_and_its_csv_export_which_is_itself_audited(
    browser: Browser, owner: tuple[Marketer, Workspace]
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.ledger", DAY, actor='=HYPERLINK("http://evil")', subject="+1-2")
    entry(workspace, "admin.access", DAY, outcome="denied", actor="api-key:4")
    denied = browser.client.get("/admin/audit?outcome=denied")
    assert "1 entry" in text_of(denied) and "admin.access" in table_of(denied)
    response = browser.client.get("/admin/audit.csv?action=export.ledger")
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit.csv"'
    assert "no-store" in response.headers["Cache-Control"]
    rows = rows_of(response)
    assert list(rows[0]) == ["time_utc", "actor", "action", "subject", "outcome", "data"]
    assert [(r["actor"], r["subject"]) for r in rows] == [('\'=HYPERLINK("http://evil")', "'+1-2")]
    db.session.commit()
    exports = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export.audit"))
    [export] = exports.all()
    assert (export.marketer_id, export.workspace_id) == (marketer.id, workspace.id)
    assert export.data == {"rows": 1, "action": "export.ledger"} and export.ip_hash
