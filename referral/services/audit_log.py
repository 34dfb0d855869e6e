"""Reading the audit log: a workspace's entries, filtered, a page at a time or as CSV.

A workspace's log holds the entries written in it (decisions, exports, members disabled,
refused access) and the account events of its members that belong to no workspace: their
sign-ins, failed or throttled sign-ins to their accounts, and password changes. Failed
sign-ins to addresses that have no account appear in no workspace's log.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, cast, func, literal, or_, select

from referral.extensions import db
from referral.models import AuditEntry, Marketer, Membership
from referral.services import audit
from referral.services.exports import safe_cell
from referral.services.participants import Page

PER_PAGE = 50
MAX_EXPORT = 100_000
MARKETER = "marketer:"
CSV_COLUMNS = ("time_utc", "actor", "action", "subject", "outcome", "data")


@dataclass(frozen=True)
class Filters:
    """What the log is narrowed to; empty values narrow nothing. Dates are UTC days,
    both included."""

    action: str = ""
    outcome: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_data(self) -> dict[str, Any]:
        """The filters that are set, for the audit entry of an export."""
        values = {
            "action": self.action,
            "outcome": self.outcome,
            "actor": self.actor,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    actor: str  # a member's e-mail address when the actor is one, else what was recorded
    subject: str  # likewise for a subject that names a marketer


def _in_workspace(workspace_id: int) -> Any:
    members = select(Membership.marketer_id).where(Membership.workspace_id == workspace_id)
    subjects = select(literal("marketer:").concat(cast(Membership.marketer_id, String))).where(
        Membership.workspace_id == workspace_id
    )
    about_members = or_(AuditEntry.marketer_id.in_(members), AuditEntry.subject.in_(subjects))
    return or_(
        AuditEntry.workspace_id == workspace_id,
        and_(AuditEntry.workspace_id.is_(None), about_members),
    )


def _query(workspace_id: int, filters: Filters) -> Select[AuditEntry, str]:
    query = (
        select(AuditEntry, Marketer.email)
        .outerjoin(Marketer, Marketer.id == AuditEntry.marketer_id)
        .where(_in_workspace(workspace_id))
    )
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.outcome:
        query = query.where(AuditEntry.outcome == filters.outcome)
    if filters.actor:
        needle = filters.actor.lower()
        query = query.where(
            or_(
                func.lower(AuditEntry.actor).contains(needle, autoescape=True),
                func.lower(Marketer.email).contains(needle, autoescape=True),
            )
        )
    if filters.date_from:
        query = query.where(AuditEntry.created_at >= _midnight(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.created_at < _midnight(filters.date_to + timedelta(1)))
    return query


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _rows(result: Any) -> list[Row]:
    found = list(result)
    named = {
        int(e.subject.removeprefix(MARKETER)): e.subject
        for e, _email in found
        if e.subject.startswith(MARKETER) and e.subject.removeprefix(MARKETER).isdigit()
    }
    emails: dict[str, str] = {}
    if named:
        known = select(Marketer.id, Marketer.email).where(Marketer.id.in_(named))
        emails = {named[ident]: email for ident, email in db.session.execute(known)}
    return [
        Row(entry, email or entry.actor, emails.get(entry.subject, entry.subject))
        for entry, email in found
    ]


def list_entries(workspace_id: int, filters: Filters, page: int = 1) -> Page:
    """One page of the workspace's entries matching ``filters``, newest first."""
    query = _query(workspace_id, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // PER_PAGE)))
    ordered = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    found = db.session.execute(ordered.limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return Page(rows=_rows(found), total=total, page=page, per_page=PER_PAGE)


def actions_in(workspace_id: int) -> list[str]:
    """The actions the workspace's log holds, for the filter's choices."""
    query = _query(workspace_id, Filters()).subquery()
    return list(db.session.scalars(select(query.c.action).distinct().order_by(query.c.action)))


def export_csv(
    workspace_id: int, filters: Filters, marketer: Marketer, *, ip_hash: str | None = None
) -> bytes:
    """The entries matching ``filters`` (newest first, at most :data:`MAX_EXPORT`) as CSV.

    Cells a spreadsheet would run as a formula get a leading apostrophe. The export is
    itself audited, with the filters it used.
    """
    query = _query(workspace_id, filters).order_by(
        AuditEntry.created_at.desc(), AuditEntry.id.desc()
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for row in _rows(db.session.execute(query.limit(MAX_EXPORT))):
        entry = row.entry
        data = json.dumps(entry.data, ensure_ascii=False, sort_keys=True) if entry.data else ""
        cells = (entry.created_at.astimezone(UTC), row.actor, entry.action, row.subject)
        writer.writerow(safe_cell(v) for v in (*cells, entry.outcome, data))
        rows += 1
    audit.record(
        "export.audit",
        f"workspace:{workspace_id}",
        workspace_id=workspace_id,
        marketer_id=marketer.id,
        ip_hash=ip_hash,
        data={"rows": rows, **filters.as_data()},
    )
    db.session.commit()
    return buffer.getvalue().encode("utf-8")
