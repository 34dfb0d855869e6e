"""Integrations: the workspace's receivers of payment providers' events (Stripe, Shopify),
set up with the provider's signing secret (docs/API.md, Incoming payment events)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import List, Nested, String
from apiflask.schemas import EmptySchema
from apiflask.validators import Length, OneOf, Regexp
from flask import current_app, g, url_for
from marshmallow import post_dump

from referral.api.auth import caller
from referral.api.operations import changes, created, creates, lists, operation, reads
from referral.api.schemas import Text, _Out, _time_out
from referral.models import PROVIDERS, InboundHook
from referral.services import inbound_hooks as service
from referral.services.ids import parse_id

_SECRET = {
    "description": "The signing secret the provider shows (Stripe's `whsec_…`, the Shopify "
    f"app's secret): {service.SECRET_MIN} to {service.SECRET_MAX} printable characters "
    "without spaces. Never answered again, only its last four characters (`secret_hint`).",
}
_ID_PATTERN = r"^[0-9]{1,10}\Z"
_CAMPAIGN = {
    "description": "The campaign its orders belong to (a campaign of the workspace), or "
    "null: the buyer's newest confirmed participation."
}


def _secret(required: bool) -> Text:
    return Text(
        required=required,
        validate=[
            Length(service.SECRET_MIN, service.SECRET_MAX),
            Regexp(r"^[!-~]+\Z", error="Printable characters without spaces."),
        ],
        metadata=_SECRET,
    )


class IntegrationIn(Schema):
    provider = Text(required=True, validate=OneOf(PROVIDERS))
    secret = _secret(True)
    campaign_id = Text(allow_none=True, validate=Regexp(_ID_PATTERN), metadata=_CAMPAIGN)


class IntegrationPatch(Schema):
    """Only the given fields change."""

    secret = _secret(False)
    campaign_id = Text(allow_none=True, validate=Regexp(_ID_PATTERN), metadata=_CAMPAIGN)


class IntegrationOut(_Out):
    id = String(required=True)
    provider = String(required=True, validate=OneOf(PROVIDERS))
    receiver_url = String(
        required=True,
        dump_default="",
        metadata={
            "format": "uri",
            "description": "Where the provider posts its events: enter it in its webhook settings.",
        },
    )
    secret_hint = String(required=True, dump_default="")
    campaign_id = String(required=True, allow_none=True)
    created_at = _time_out(required=True)

    @post_dump(pass_original=True)
    def _derived(self, data: dict[str, Any], hook: InboundHook, **_kw: Any) -> dict[str, Any]:
        path = url_for("public.provider_event", provider=hook.provider, key=hook.key)
        return {
            **data,
            "receiver_url": current_app.config["PUBLIC_BASE_URL"] + path,
            "secret_hint": service.secret_hint(hook),
        }


class IntegrationPage(_Out):
    items = List(Nested(IntegrationOut), required=True)
    next_cursor = String(required=True, allow_none=True)


def _owned(integration_id: str) -> InboundHook:
    """:raise NotFound: for a malformed, unknown or other workspace's id alike."""
    return service.find_hook(g.workspace_id, parse_id(integration_id))


# Creating is registered before listing: the document then names IntegrationOut once.
@creates(
    "POST /integrations",
    "createIntegration",
    "Set up a payment provider",
    IntegrationOut,
    "The receiver, with the address to give the provider.",
    body=IntegrationIn,
    conflict=True,
    description="One receiver per provider and workspace: a second one for the same provider "
    "answers 409 (change its secret with PATCH). A `campaign_id` of no campaign of the "
    "workspace answers 422 naming it. Audited as `integration.create`.",
)
def create_integration(data: dict[str, Any]) -> Any:
    hook = service.create_hook(
        g.workspace_id, data["provider"], data["secret"], data.get("campaign_id"), **caller()
    )
    return created(hook, "api.get_integration", integration_id=str(hook.id))


@reads(
    "GET /integrations/<integration_id>",
    "getIntegration",
    "Get a payment provider's receiver",
    IntegrationOut,
    "The receiver.",
)
def get_integration(integration_id: str) -> Any:
    return _owned(integration_id)


@changes(
    "PATCH /integrations/<integration_id>",
    "updateIntegration",
    "Change a payment provider's receiver",
    IntegrationOut,
    "The changed receiver.",
    body=IntegrationPatch,
    description="A new `secret` (after rolling it over at the provider) and/or `campaign_id` "
    "(null: any). The address stays. Audited as `integration.update`.",
)
def patch_integration(integration_id: str, data: dict[str, Any]) -> Any:
    changed: dict[str, Any] = {"secret": data.get("secret")}
    if "campaign_id" in data:
        changed["campaign_id"] = data["campaign_id"]
    return service.update_hook(_owned(integration_id), **changed, **caller())


@operation(
    "DELETE /integrations/<integration_id>",
    "deleteIntegration",
    "Remove a payment provider's receiver",
    EmptySchema,
    "Removed: its address answers 404 from now on.",
    status=204,
    errors=(401, 404),
    description="What it received stays recorded. Audited as `integration.delete`.",
)
def delete_integration(integration_id: str) -> Any:
    service.delete_hook(_owned(integration_id), **caller())
    return ""


@lists(
    "GET /integrations",
    "listIntegrations",
    "List payment providers' receivers",
    IntegrationPage,
    "A page of the workspace's receivers, oldest first (secrets only as hints).",
)
def list_integrations(query: dict[str, Any]) -> Any:
    return service.hook_page(g.workspace_id, query.get("limit"), query.get("cursor"))
