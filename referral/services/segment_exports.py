"""The customers of a segment, or of the list's current filter, as a CSV download.

The export is audited (``export.customers``, naming the segment or ``customers`` and the
filter, never an address) and committed before the first row is read; the rows are then
read and written in batches of :data:`BATCH`, each let go of by the session once written, so
the session never holds a large workspace at once. Cells are neutralised as every export's are
(``services.exports.safe_cell``): a spreadsheet shows ``=1+1`` instead of running it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from referral.domain.segments import CustomerFilter
from referral.extensions import db
from referral.models import Customer, Segment
from referral.services import audit
from referral.services.exports import safe_cell
from referral.services.privacy import Actor
from referral.services.segments import customer_query, rows_of
from referral.services.tx import atomic

BATCH = 500
COLUMNS = ("customer_id", "email", "name", "locale", "tags", "campaigns", "created_at")


@atomic
def start_export(
    workspace_id: int, found: CustomerFilter, by: Actor, segment: Segment | None = None
) -> None:
    """Record that ``by`` downloads the customers of ``found`` (of ``segment``)."""
    audit.record(
        "export.customers",
        f"segment:{segment.id}" if segment else "customers",
        workspace_id=workspace_id,
        marketer_id=by.marketer_id,
        actor=by.label,
        ip_hash=by.ip_hash,
        data={"filters": found.to_params()},
    )


def _line(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def customer_lines(workspace_id: int, found: CustomerFilter) -> Iterator[str]:
    """The CSV of the customers that meet ``found``, by id, one line at a time (the header
    first): :data:`COLUMNS`, ``tags`` separated by ``, ``; an erased customer's address is
    empty. Call :func:`start_export` first."""
    yield _line(COLUMNS)
    last = 0
    while True:
        query = customer_query(workspace_id, found).where(Customer.id > last)
        batch = list(db.session.scalars(query.order_by(Customer.id).limit(BATCH)))
        if not batch:
            return
        for row in rows_of(batch):
            person = row.customer
            yield _line(
                (
                    person.id,
                    person.email_display,
                    person.name,
                    person.locale,
                    ", ".join(row.tags),
                    row.campaigns,
                    person.created_at,
                )
            )
        last = batch[-1].id
        for person in batch:  # written: let the batch go, keep the rest of the session
            db.session.expunge(person)
