"""Webhook endpoints: the workspace's addresses for outgoing events, managed by a shop's
system as on the admin's Webhooks page (docs/API.md, Outgoing webhooks)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Integer, List, Nested, String
from apiflask.schemas import EmptySchema
from apiflask.validators import Length, OneOf
from flask import g

from referral.api.auth import caller
from referral.api.operations import acts, changes, created, creates, lists, operation, reads
from referral.api.schemas import Flag, Text, _Out, _time_out
from referral.domain.webhooks import URL_MAX
from referral.models import WebhookEndpoint
from referral.models.webhooks import DELIVERY_STATUSES, WEBHOOK_EVENTS
from referral.services import webhook_endpoints as service
from referral.services.ids import parse_id

_EVENTS = (
    "The events to receive, one or more of: " + ", ".join(f"`{e}`" for e in WEBHOOK_EVENTS) + "."
)


class WebhookIn(Schema):
    url = Text(
        required=True,
        validate=Length(1, URL_MAX),
        metadata={
            "format": "uri",
            "description": "An http(s) address without a user name or password.",
        },
    )
    events = List(
        Text(validate=OneOf(WEBHOOK_EVENTS)),
        required=True,
        validate=Length(1, len(WEBHOOK_EVENTS)),
        metadata={"description": _EVENTS},
    )
    active = Flag(metadata={"description": "Whether deliveries are queued; default true."})


class WebhookPatch(WebhookIn):
    """Only the given fields change; the secret stays."""

    url = Text(validate=Length(1, URL_MAX), metadata={"format": "uri"})
    events = List(
        Text(validate=OneOf(WEBHOOK_EVENTS)),
        validate=Length(1, len(WEBHOOK_EVENTS)),
        metadata={"description": _EVENTS},
    )


class WebhookOut(_Out):
    id = String(required=True)
    url = String(required=True)
    events = List(String(validate=OneOf(WEBHOOK_EVENTS)), required=True)
    active = Flag(required=True)
    created_at = _time_out(required=True)

    secret = String(
        attribute="revealed_secret",
        metadata={
            "description": "The signing secret of `Referral-Signature`: only in the answer "
            "that created the endpoint, never again."
        },
    )


class _Revealed:
    """A new endpoint as its creation answers it: with its secret, this once."""

    def __init__(self, endpoint: WebhookEndpoint) -> None:
        self._endpoint = endpoint
        self.revealed_secret = endpoint.secret

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoint, name)


class WebhookPage(_Out):
    items = List(Nested(WebhookOut), required=True)
    next_cursor = String(required=True, allow_none=True)


class DeliveryOut(_Out):
    id = String(required=True)
    webhook_id = String(required=True, attribute="endpoint_id")
    event = String(required=True)
    status = String(required=True, validate=OneOf(DELIVERY_STATUSES))
    attempts = Integer(required=True)
    created_at = _time_out(required=True)
    next_attempt_at = _time_out(required=True)


def _owned(webhook_id: str) -> WebhookEndpoint:
    """:raise NotFound: for a malformed, unknown or other workspace's webhook id alike."""
    return service.find_endpoint(g.workspace_id, parse_id(webhook_id))


# Creating is registered before listing: the document then names WebhookOut once (a page
# registered first would bring in a second copy of it).
@creates(
    "POST /webhooks",
    "createWebhook",
    "Add a webhook endpoint",
    WebhookOut,
    "The new endpoint, with its signing secret (shown only here).",
    body=WebhookIn,
    description="Events the endpoint subscribed to are POSTed to `url` as JSON, signed with "
    "the secret in `Referral-Signature`. An address that is not a full http(s) address, or "
    "that carries a user name or password, answers 422 naming `url`. Audited as "
    "`webhook.create`.",
)
def create_webhook(data: dict[str, Any]) -> Any:
    endpoint = service.create_endpoint(
        g.workspace_id, data["url"], data["events"], active=data.get("active", True), **caller()
    )
    return created(_Revealed(endpoint), "api.get_webhook", webhook_id=str(endpoint.id))


@reads(
    "GET /webhooks/<webhook_id>",
    "getWebhook",
    "Get a webhook endpoint",
    WebhookOut,
    "The endpoint (without its secret).",
)
def get_webhook(webhook_id: str) -> Any:
    return _owned(webhook_id)


@changes(
    "PATCH /webhooks/<webhook_id>",
    "updateWebhook",
    "Change a webhook endpoint",
    WebhookOut,
    "The changed endpoint.",
    body=WebhookPatch,
    description="Changes only the given fields (`active: false` pauses it: nothing is "
    "queued for it until it is active again); the secret stays. Audited as "
    "`webhook.update` with the fields changed.",
)
def patch_webhook(webhook_id: str, data: dict[str, Any]) -> Any:
    return service.update_endpoint(
        _owned(webhook_id),
        url=data.get("url"),
        events=data.get("events"),
        active=data.get("active"),
        **caller(),
    )


@operation(
    "DELETE /webhooks/<webhook_id>",
    "deleteWebhook",
    "Delete a webhook endpoint",
    EmptySchema,
    "Deleted, with the deliveries queued for it.",
    status=204,
    errors=(401, 404),
    description="Audited as `webhook.delete`. Deleting it again answers 404.",
)
def delete_webhook(webhook_id: str) -> Any:
    service.delete_endpoint(_owned(webhook_id), **caller())
    return ""


@acts(
    "POST /webhooks/<webhook_id>/ping",
    "pingWebhook",
    "Send a test delivery",
    DeliveryOut,
    "The queued delivery.",
    status=202,
    description='Queues a `ping` (`data` = `{"webhook_id", "url"}`) for this endpoint '
    "alone, active or paused, signed and retried like any delivery, so the receiver can "
    "check its signature check. Audited as `webhook.ping`.",
)
def ping_webhook(webhook_id: str) -> Any:
    return service.ping_endpoint(_owned(webhook_id), **caller())


@lists(
    "GET /webhooks",
    "listWebhooks",
    "List webhook endpoints",
    WebhookPage,
    "A page of the workspace's endpoints, oldest first (without their secrets).",
)
def list_webhooks(query: dict[str, Any]) -> Any:
    return service.endpoint_page(g.workspace_id, query.get("limit"), query.get("cursor"))
