"""The outbox as marketers see it: a workspace's messages, filtered, a page at a time, and a
failed or undeliverable message sent again.

Reading never changes a message. Sending again puts the message back in the queue, due at
once, keeping its attempts, its last error and its ``Message-ID`` (the worker sends it with
the same one); the worker's back-off and deadline then apply as to any message, so a
message more than a day old that fails once more is undeliverable again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import defer

from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.base import utcnow
from referral.services import audit, cursors, wakeups
from referral.services.participants import Page
from referral.services.rows import affected_rows
from referral.services.scoping import MAX_ID
from referral.services.tx import atomic

PER_PAGE = 50
# Every status a message can have, in the order of its life (models/messaging.py).
STATUSES = ("queued", "sending", "sent", "logged", "failed", "undeliverable")
# Messages the worker gave up on, for now (failed) or for good (undeliverable).
RETRYABLE = ("failed", "undeliverable")
NOT_RETRYABLE = N_("Only a failed or undeliverable message can be sent again.")
NO_MESSAGE = N_("No such %(kind)s.")
BAD_STATUS = N_("Choose the status from: %(choices)s.")


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; empty values narrow nothing."""

    status: str = ""
    kind: str = ""


def _query(workspace_id: int, filters: Filters) -> Select[Any]:
    query = select(OutboxMessage).where(OutboxMessage.workspace_id == workspace_id)
    if filters.status:
        query = query.where(OutboxMessage.status == filters.status)
    if filters.kind:
        query = query.where(OutboxMessage.kind == filters.kind)
    return query


def list_messages(workspace_id: int, filters: Filters, page: int = 1) -> Page:
    """One page of the workspace's messages matching ``filters``, newest first (a page past
    the last is the last). The bodies are left unloaded: the list shows none."""
    query = _query(workspace_id, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // PER_PAGE)))
    ordered = query.options(defer(OutboxMessage.body_text), defer(OutboxMessage.body_html))
    ordered = ordered.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    rows = list(db.session.scalars(ordered.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return Page(rows=rows, total=total, page=page, per_page=PER_PAGE)


def kinds_in(workspace_id: int) -> list[str]:
    """The kinds of message the workspace's outbox holds, for the filter's choices."""
    query = (
        select(OutboxMessage.kind)
        .where(OutboxMessage.workspace_id == workspace_id)
        .distinct()
        .order_by(OutboxMessage.kind)
    )
    return list(db.session.scalars(query))


def message_page(
    workspace_id: int, status: str | None, limit: Any, cursor: str | None
) -> cursors.CursorPage[OutboxMessage]:
    """A page of the workspace's messages in id order (the API's list), optionally only
    those with ``status``.

    :raise ValidationFailed: on ``status``, ``limit`` or ``cursor``.
    """
    if status and status not in STATUSES:
        raise ValidationFailed.on("status", BAD_STATUS, {"choices": ", ".join(STATUSES)})
    query = _query(workspace_id, Filters(status=status or ""))
    return cursors.page(query, OutboxMessage.id, limit, cursor)


def find_message(workspace_id: int, message_id: int) -> OutboxMessage:
    """The message ``message_id`` of the workspace.

    :raise NotFound: for an id of another workspace exactly as for one that does not exist.
    """
    found = None
    if 0 < message_id <= MAX_ID:
        found = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.workspace_id == workspace_id
            )
        )
    if found is None:
        raise NotFound(NO_MESSAGE, params={"kind": "message"})
    return found


@atomic
def retry_message(
    workspace_id: int,
    message_id: int,
    *,
    marketer_id: int | None = None,
    actor: str = "",
    ip_hash: str | None = None,
) -> OutboxMessage:
    """Queue a failed or undeliverable message again, due now, and wake the worker after
    the commit. Audited as ``outbox.retried`` with the status it left.

    The change is conditional on the status, so two marketers sending one message again at
    once queue it once, and a message the worker took meanwhile is not touched.

    :raise NotFound: for a message of another workspace, or none.
    :raise Conflict: for a message that is queued, being sent, sent or logged.
    """
    message = find_message(workspace_id, message_id)
    before = message.status
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status.in_(RETRYABLE))
        .values(status="queued", next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not affected_rows(result):
        raise Conflict(NOT_RETRYABLE)
    audit.record(
        "outbox.retried",
        f"outbox:{message.id}",
        workspace_id=workspace_id,
        marketer_id=marketer_id,
        actor=actor,
        ip_hash=ip_hash,
        data={"from": before, "kind": message.kind, "attempts": message.attempts},
    )
    wakeups.due("mail")
    db.session.refresh(message)
    return message
