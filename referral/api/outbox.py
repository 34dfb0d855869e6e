"""The outbox: the workspace's e-mail (queued, sent, given up on), read and sent again."""

from __future__ import annotations

from typing import Any

from apiflask.fields import Integer, List, Nested, String
from apiflask.validators import OneOf
from flask import g

from referral.api.auth import caller
from referral.api.operations import acts, lists, reads
from referral.api.schemas import ListQuery, Text, _Out, _time_out
from referral.models import OutboxMessage
from referral.services import outbox_admin as service
from referral.services.ids import parse_id


class OutboxMessageOut(_Out):
    """Dumps an :class:`OutboxMessage`."""

    id = String(required=True)
    customer_id = String(required=True, allow_none=True)
    kind = String(
        required=True,
        metadata={
            "description": "`confirmation`, `trial_ending`, `draw_winner`, "
            "`journey:<topic>`, `journey_test`, …"
        },
    )
    to = String(required=True, attribute="to_address")
    subject = String(required=True)
    status = String(required=True, validate=OneOf(service.STATUSES))
    attempts = Integer(required=True)
    error = String(required=True, metadata={"description": "The last attempt's error."})
    created_at = _time_out(required=True)
    sent_at = _time_out(required=True, allow_none=True)
    # Not sent before this time: a back-off, or a send under way.
    next_attempt_at = _time_out(required=True, allow_none=True)


class OutboxMessageFull(OutboxMessageOut):
    text = String(required=True, attribute="body_text")
    html = String(required=True, attribute="body_html")


class OutboxPage(_Out):
    items = List(Nested(OutboxMessageOut), required=True)
    next_cursor = String(required=True, allow_none=True)


class OutboxQuery(ListQuery):
    status = Text(validate=OneOf(service.STATUSES))


def _owned(message_id: str) -> OutboxMessage:
    """:raise NotFound: for a malformed, unknown or other workspace's message id alike."""
    return service.find_message(g.workspace_id, parse_id(message_id) or 0)


@acts(
    "POST /outbox/<message_id>/retry",
    "retryOutboxMessage",
    "Send an e-mail again",
    OutboxMessageFull,
    "The message, queued again.",
    description="A `failed` or `undeliverable` message is queued again, due at once, with "
    "the same `Message-ID`; audited as `outbox.retried`. Any other status answers 409.",
)
def retry_outbox_message(message_id: str) -> Any:
    message = _owned(message_id)
    return service.retry_message(g.workspace_id, message.id, **caller())


@reads(
    "GET /outbox/<message_id>",
    "getOutboxMessage",
    "Get an outgoing e-mail",
    OutboxMessageFull,
    "The message, with its text and HTML parts.",
)
def get_outbox_message(message_id: str) -> Any:
    return _owned(message_id)


@lists(
    "GET /outbox",
    "listOutbox",
    "List outgoing e-mail",
    OutboxPage,
    "A page of the workspace's outbox, oldest first (without the bodies).",
    description="Optionally only the messages with a `status`: `queued`, `sending`, `sent` "
    "(accepted by the mail server), `logged` (no mail server set: written to the log only), "
    "`failed` (retried with a back-off) or `undeliverable` (given up on after a day).",
    query=OutboxQuery,
)
def list_outbox(query: dict[str, Any]) -> Any:
    return service.message_page(
        g.workspace_id, query.get("status"), query.get("limit"), query.get("cursor")
    )
