"""The owners' audit log page: scoped to the workspace, filtered, paginated, exported."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Marketer, Workspace
from referral.services import audit
from tests.conftest import Browser
from tests.factories import Factory

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def entry(workspace: Workspace | None, action: str, when: datetime, **kw: Any) -> AuditEntry:
    row = audit.record(action, kw.pop("subject", "campaign:1"), workspace_id=
                       workspace.id if workspace else None, **kw)  # fmt: skip
    row.created_at = when
    db.session.commit()
    return row


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


def test_an_owner_reads_the_workspace_log_newest_first_in_utc(
    browser: Browser, owner: tuple[Marketer, Workspace]
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.participants", DAY, marketer_id=marketer.id)
    entry(workspace, "review.reject", DAY + timedelta(hours=1), subject="participation:7")
    table = table_of(browser.client.get("/admin/audit"))
    assert table.index("review.reject") < table.index("export.participants")
    assert "2026-03-10 13:00:00" in table and "2026-03-10 12:00:00" in table
    assert marketer.email in table  # the actor, by their address
    assert "participation:7" in table and "Done" in table
    assert "Time (UTC)" in table


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_owners_read_the_log(browser: Browser, login_as: Any, role: str) -> None:
    login_as(role)
    assert browser.client.get("/admin/audit").status_code == 403
    assert browser.client.get("/admin/audit.csv").status_code == 403
    page = text_of(browser.client.get("/admin/campaigns"))
    assert 'href="/admin/audit"' not in page and 'href="/admin/members"' not in page


def test_the_admin_navigation_links_the_log_and_members_for_owners(
    browser: Browser, owner: tuple[Marketer, Workspace]
) -> None:
    page = text_of(browser.client.get("/admin/campaigns"))
    assert 'href="/admin/audit"' in page and 'href="/admin/members"' in page


def test_the_log_holds_only_this_workspace_and_its_members_account_events(
    app: Any, browser: Browser, owner: tuple[Marketer, Workspace], factory: Factory
) -> None:
    """Can an owner of workspace B read workspace A's log, or its marketers' sign-ins? No."""
    marketer, workspace = owner
    colleague, _ = factory.marketer(role="viewer", workspace=workspace)
    stranger, brand_a = factory.marketer(role="owner")
    entry(brand_a, "export.ledger", DAY, subject="campaign:99")
    assert Browser(app.test_client()).login(stranger.email).status_code == 302
    assert Browser(app.test_client()).login(colleague.email, "wrong guess!").status_code == 422
    assert Browser(app.test_client()).login("ghost@example.com", "whatever!").status_code == 422
    page = browser.client.get("/admin/audit")
    table = table_of(page)
    assert "campaign:99" not in table and stranger.email not in table
    assert "g…@example.com" not in table  # an unknown account belongs to nobody
    assert colleague.email in table and "Failed" in table  # their account was tried
    assert marketer.email in table  # this owner's own sign-in
    exported = rows_of(browser.client.get("/admin/audit.csv"))
    assert {r["subject"] for r in exported} == {marketer.email, colleague.email}


def test_filters_narrow_the_log_by_action_outcome_actor_and_dates(
    browser: Browser, owner: tuple[Marketer, Workspace], factory: Factory
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.ledger", DAY - timedelta(days=2), actor="api-key:3")
    entry(workspace, "export.ledger", DAY, marketer_id=marketer.id)
    entry(workspace, "admin.access", DAY, outcome="denied", actor="api-key:4")
    entry(workspace, "review.approve", DAY + timedelta(days=1), actor="api-key:3")

    def found(query: str) -> list[tuple[str, str]]:
        rows = rows_of(browser.client.get(f"/admin/audit.csv?{query}"))
        return [(r["action"], r["actor"]) for r in rows]

    assert found("action=export.ledger") == [
        ("export.ledger", marketer.email),
        ("export.ledger", "api-key:3"),
    ]
    assert found("outcome=denied") == [("admin.access", "api-key:4")]
    assert found("actor=API-KEY:3") == [
        ("review.approve", "api-key:3"),
        ("export.ledger", "api-key:3"),
    ]
    assert found(f"actor={marketer.email.split('@')[0]}&action=export.ledger") == [
        ("export.ledger", marketer.email)
    ]
    assert found("date_from=2026-03-10&date_to=2026-03-10&actor=api") == [
        ("admin.access", "api-key:4")
    ]
    assert found("date_from=2026-03-11&action=review.approve") == [("review.approve", "api-key:3")]
    page = text_of(browser.client.get("/admin/audit?outcome=denied"))
    assert "1 entry" in page and "admin.access" in table_of(
        browser.client.get("/admin/audit?outcome=denied")
    )


@pytest.mark.parametrize(
    "query",
    ["date_from=2026-13-40", "outcome=exploded", "action=no.such.action",
     "date_from=2026-03-11&date_to=2026-03-10", f"actor={'x' * 121}"],
)  # fmt: skip
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


def test_the_csv_export_neutralises_formulas_and_is_itself_audited(
    browser: Browser, owner: tuple[Marketer, Workspace]
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.ledger", DAY, actor="=HYPERLINK(\"http://evil\")",
          subject="+1-2", data={"note": "@SUM(A1)"})  # fmt: skip
    entry(workspace, "review.reject", DAY, actor="-cmd", subject="participation:1")
    response = browser.client.get("/admin/audit.csv?action=export.ledger")
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit.csv"'
    assert "no-store" in response.headers["Cache-Control"]
    rows = rows_of(response)
    assert list(rows[0]) == ["time_utc", "actor", "action", "subject", "outcome", "data"]
    assert len(rows) == 1
    row = rows[0]
    assert row["actor"] == '\'=HYPERLINK("http://evil")'
    assert row["subject"] == "'+1-2"
    assert row["time_utc"] == "2026-03-10T12:00:00+00:00"
    assert row["data"] == '{"note": "@SUM(A1)"}'  # JSON starts with "{": nothing to run
    everything = rows_of(browser.client.get("/admin/audit.csv"))
    assert "'-cmd" in {r["actor"] for r in everything}
    db.session.commit()
    exports = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.audit").order_by(AuditEntry.id)
    ).all()
    assert [(e.marketer_id, e.workspace_id, e.data) for e in exports] == [
        (marketer.id, workspace.id, {"rows": 1, "action": "export.ledger"}),
        (marketer.id, workspace.id, {"rows": 4}),  # two, a sign-in, an export
    ]
    assert exports[0].ip_hash
