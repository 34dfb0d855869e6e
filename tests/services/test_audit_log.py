"""Reading the audit log, asked of the audit_log service: which entries a workspace's log
holds (its own, and its members' account events), newest first, how the filters narrow it,
its pages, and the CSV export (cells neutralised, the export itself audited). The page, its
form and who may open it are in tests/web/test_audit_page.py."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Marketer, Workspace
from referral.services import audit
from referral.services.accounts import authenticate
from referral.services.audit_log import Filters, actions_in, export_csv, list_entries
from tests.factories import Factory

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def entry(workspace: Workspace | None, action: str, when: datetime, **kw: Any) -> AuditEntry:
    row = audit.record(action, kw.pop("subject", "campaign:1"), workspace_id=
                       workspace.id if workspace else None, **kw)  # fmt: skip
    row.created_at = when
    db.session.commit()
    return row


def listed(workspace: Workspace, filters: Filters | None = None, page: int = 1) -> list[Any]:
    return list_entries(workspace.id, filters or Filters(), page).rows


def exported(workspace: Workspace, marketer: Marketer, **filters: Any) -> list[dict[str, str]]:
    text = export_csv(workspace.id, Filters(**filters), marketer).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def owner(factory: Factory) -> tuple[Marketer, Workspace]:
    return factory.marketer()


def test_the_log_is_newest_first_and_names_members_by_their_address(
    owner: tuple[Marketer, Workspace], factory: Factory
) -> None:
    marketer, workspace = owner
    colleague, _ = factory.marketer(role="viewer", workspace=workspace)
    entry(workspace, "export.participants", DAY, marketer_id=marketer.id)
    entry(workspace, "review.reject", DAY + timedelta(hours=1), subject="participation:7")
    entry(workspace, "member.disable", DAY - timedelta(hours=1), subject=f"marketer:{colleague.id}")
    rows = listed(workspace)
    assert [(r.entry.action, r.actor, r.subject) for r in rows] == [
        ("review.reject", "", "participation:7"),
        ("export.participants", marketer.email, "campaign:1"),
        ("member.disable", "", colleague.email),
    ]
    assert [r.entry.outcome for r in rows] == ["ok"] * 3


# Which entries a workspace's log holds: its own, and its members' account events.
SCOPES = {
    "written in the workspace": True,
    "written in another workspace": False,
    "a member's own account event": True,
    "an event about a member's account": True,
    "an event about another workspace's marketer": False,
    "a sign-in to an address without an account": False,
}


@pytest.mark.parametrize("case", list(SCOPES))
def test_the_log_holds_the_workspaces_own_entries_and_its_members_account_events(
    owner: tuple[Marketer, Workspace], factory: Factory, case: str
) -> None:
    """Can an owner of workspace B read workspace A's log, or its marketers' sign-ins? No."""
    marketer, workspace = owner
    stranger, brand_a = factory.marketer()
    made = {
        "written in the workspace": lambda: entry(workspace, "export.ledger", DAY),
        "written in another workspace": lambda: entry(brand_a, "export.ledger", DAY),
        "a member's own account event": lambda: entry(
            None, "auth.login", DAY, marketer_id=marketer.id, subject=f"marketer:{marketer.id}"
        ),
        "an event about a member's account": lambda: entry(
            None, "auth.login", DAY, outcome="failed", subject=f"marketer:{marketer.id}"
        ),
        "an event about another workspace's marketer": lambda: entry(
            None, "auth.login", DAY, marketer_id=stranger.id, subject=f"marketer:{stranger.id}"
        ),
        "a sign-in to an address without an account": lambda: entry(
            None, "auth.login", DAY, outcome="failed", subject="account:unknown"
        ),
    }[case]()
    assert [r.entry.id for r in listed(workspace)] == ([made.id] if SCOPES[case] else [])
    assert actions_in(workspace.id) == ([made.action] if SCOPES[case] else [])


def test_members_sign_ins_and_failed_sign_ins_to_their_accounts_are_in_the_log(
    owner: tuple[Marketer, Workspace], factory: Factory
) -> None:
    marketer, workspace = owner
    colleague, _ = factory.marketer(role="viewer", workspace=workspace)
    stranger, _ = factory.marketer()
    assert authenticate(stranger.email, Factory.PASSWORD) is not None
    assert authenticate(colleague.email, "wrong guess!") is None
    assert authenticate("ghost@example.com", "whatever!") is None
    assert authenticate(marketer.email, Factory.PASSWORD) is not None
    rows = listed(workspace)
    assert [(r.entry.outcome, r.subject) for r in rows] == [
        ("ok", marketer.email),
        ("failed", colleague.email),
    ]
    assert "g…@example.com" not in {r.actor for r in rows}  # an unknown account is nobody's


FILTERED = [
    (Filters(action="export.ledger"), ["export.ledger/member", "export.ledger/api-key:3"]),
    (Filters(outcome="denied"), ["admin.access/api-key:4"]),
    (Filters(actor="API-KEY:3"), ["review.approve/api-key:3", "export.ledger/api-key:3"]),
    (Filters(actor="marketer", action="export.ledger"), ["export.ledger/member"]),
    (Filters(actor="api", date_from=date(2026, 3, 10), date_to=date(2026, 3, 10)),
     ["admin.access/api-key:4"]),
    (Filters(action="review.approve", date_from=date(2026, 3, 11)), ["review.approve/api-key:3"]),
    (Filters(date_to=date(2026, 3, 8)), ["export.ledger/api-key:3"]),
    (Filters(actor="100%_"), []),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "found"), FILTERED)
def test_filters_narrow_the_log_by_action_outcome_actor_and_dates(
    owner: tuple[Marketer, Workspace], filters: Filters, found: list[str]
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.ledger", DAY - timedelta(days=2), actor="api-key:3")
    entry(workspace, "export.ledger", DAY, marketer_id=marketer.id)
    entry(workspace, "admin.access", DAY, outcome="denied", actor="api-key:4")
    entry(workspace, "review.approve", DAY + timedelta(days=1), actor="api-key:3")
    names = {marketer.email: "member"}
    rows = listed(workspace, filters)
    assert [f"{r.entry.action}/{names.get(r.actor, r.actor)}" for r in rows] == found
    assert len(exported(workspace, marketer, **filters.__dict__)) == len(found)


def test_the_log_is_paged_fifty_at_a_time_and_a_page_past_the_end_is_the_last(
    owner: tuple[Marketer, Workspace],
) -> None:
    _, workspace = owner
    for n in range(60):
        entry(workspace, "review.approve", DAY + timedelta(minutes=n), subject=f"participation:{n}")
    first = list_entries(workspace.id, Filters(), 1)
    assert (first.total, first.page, len(first.rows)) == (60, 1, 50)
    assert first.rows[0].subject == "participation:59"
    second = list_entries(workspace.id, Filters(), 2)
    assert [r.subject for r in second.rows] == [f"participation:{n}" for n in range(9, -1, -1)]
    assert list_entries(workspace.id, Filters(), 999).page == 2
    assert list_entries(workspace.id, Filters(), 0).page == 1
    empty = list_entries(workspace.id, Filters(action="export.ledger"), 3)
    assert (empty.total, empty.page, empty.rows) == (0, 1, [])


def test_the_csv_export_neutralises_formulas_in_utc_and_is_itself_audited(
    owner: tuple[Marketer, Workspace],
) -> None:
    marketer, workspace = owner
    entry(workspace, "export.ledger", DAY, actor="=HYPERLINK(\"http://evil\")",
          subject="+1-2", data={"note": "@SUM(A1)"})  # fmt: skip
    entry(workspace, "review.reject", DAY, actor="-cmd", subject="participation:1")
    text = export_csv(workspace.id, Filters(action="export.ledger"), marketer, ip_hash="h" * 64)
    assert text.decode("utf-8").splitlines()[0] == "time_utc,actor,action,subject,outcome,data"
    [row] = list(csv.DictReader(io.StringIO(text.decode("utf-8"))))
    assert row["actor"] == '\'=HYPERLINK("http://evil")'
    assert row["subject"] == "'+1-2"
    assert row["time_utc"] == "2026-03-10T12:00:00+00:00"
    assert row["data"] == '{"note": "@SUM(A1)"}'  # JSON starts with "{": nothing to run
    assert "'-cmd" in {r["actor"] for r in exported(workspace, marketer)}
    db.session.commit()
    exports = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.audit").order_by(AuditEntry.id)
    ).all()
    assert [(e.marketer_id, e.workspace_id, e.subject, e.data) for e in exports] == [
        (marketer.id, workspace.id, f"workspace:{workspace.id}",
         {"rows": 1, "action": "export.ledger"}),
        (marketer.id, workspace.id, f"workspace:{workspace.id}", {"rows": 3}),  # and the first
    ]  # fmt: skip
    assert exports[0].ip_hash == "h" * 64


def test_the_filters_of_an_export_are_recorded_as_they_were_set() -> None:
    filters = Filters(actor="ann", date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    assert filters.as_data() == {"actor": "ann", "from": "2026-03-01", "to": "2026-03-31"}
    assert Filters().as_data() == {}
