"""Receivers of payment providers' events: a workspace sets up one per provider (Stripe,
Shopify) with the signing secret the provider shows, and optionally the campaign its
purchases and refunds belong to; changes and removals are audited.

The receiver's address is ``/hooks/<provider>/<key>``: the key only says which workspace it
is; the signature under the secret proves the provider sent it. The secret must be kept
readable to check signatures; it is never shown again in full (``secret_hint``).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import PROVIDERS, Campaign, InboundHook, InboundReceipt
from referral.services import audit, cursors
from referral.services.scoping import MAX_ID
from referral.services.tx import atomic

SECRET_MIN, SECRET_MAX = 8, 200
PROVIDER_NAMES = {"stripe": "Stripe", "shopify": "Shopify"}


def secret_hint(hook: InboundHook) -> str:
    """Enough of the secret to tell which one is set: its last four characters."""
    return "…" + hook.secret[-4:]


def _check_provider(provider: object) -> str:
    if provider not in PROVIDERS:
        raise ValidationFailed.on(
            "provider", N_("Choose one of: %(choices)s."), {"choices": ", ".join(PROVIDERS)}
        )
    return str(provider)


def _check_secret(secret: object) -> str:
    text = str(secret or "").strip()
    if not SECRET_MIN <= len(text) <= SECRET_MAX or not text.isascii() or not text.isprintable():
        raise ValidationFailed.on(
            "secret",
            N_(
                "Paste the signing secret the provider shows (%(min)s to %(max)s characters "
                "without spaces)."
            ),
            {"min": SECRET_MIN, "max": SECRET_MAX},
        )
    if " " in text:
        raise ValidationFailed.on("secret", N_("A signing secret has no spaces; paste it again."))
    return text


def _check_campaign(workspace_id: int, campaign_id: object) -> int | None:
    if campaign_id in (None, ""):
        return None
    found = None
    try:
        key = int(str(campaign_id))
    except ValueError:
        key = 0
    if 0 < key <= MAX_ID:
        found = db.session.scalar(
            select(Campaign.id).where(Campaign.id == key, Campaign.workspace_id == workspace_id)
        )
    if found is None:
        raise ValidationFailed.on("campaign_id", N_("Choose a campaign of this workspace."))
    return found


def _collect(*checks: Any) -> list[Any]:
    """Run each check; every refusal is named at once."""
    errors: dict[str, list[Any]] = {}
    results = []
    for check in checks:
        try:
            results.append(check())
        except ValidationFailed as error:
            errors.update(error.messages)
            results.append(None)
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return results


@atomic
def create_hook(
    workspace_id: int,
    provider: object,
    secret: object,
    campaign_id: object = None,
    *,
    marketer_id: int | None = None,
    actor: str = "",
    ip_hash: str | None = None,
) -> InboundHook:
    """A receiver for ``provider`` with its signing secret. Audited as
    ``integration.create``.

    :raise ValidationFailed: naming ``provider``, ``secret`` or ``campaign_id``.
    :raise Conflict: the workspace has a receiver for this provider already.
    """
    name, clean, campaign = _collect(
        lambda: _check_provider(provider),
        lambda: _check_secret(secret),
        lambda: _check_campaign(workspace_id, campaign_id),
    )
    hook = InboundHook(
        workspace_id=workspace_id,
        provider=name,
        key=secrets.token_urlsafe(18),
        secret=clean,
        campaign_id=campaign,
    )
    try:
        with db.session.begin_nested():
            db.session.add(hook)
    except IntegrityError:
        raise Conflict(
            N_("%(provider)s is set up already: change its secret instead."),
            params={"provider": PROVIDER_NAMES[name]},
        ) from None
    who = {"marketer_id": marketer_id, "actor": actor, "ip_hash": ip_hash}
    _audit(hook, "integration.create", {"campaign_id": campaign}, **who)
    return hook


_KEEP = object()


@atomic
def update_hook(
    hook: InboundHook,
    *,
    secret: object = None,
    campaign_id: object = _KEEP,
    marketer_id: int | None = None,
    actor: str = "",
    ip_hash: str | None = None,
) -> InboundHook:
    """A new signing secret (when given) and campaign (None: any; when given). Audited as
    ``integration.update`` with what changed (never the secret itself).

    :raise ValidationFailed: naming ``secret`` or ``campaign_id``; nothing changes.
    """
    clean, campaign = _collect(
        lambda: None if secret is None else _check_secret(secret),
        lambda: None if campaign_id is _KEEP else _check_campaign(hook.workspace_id, campaign_id),
    )
    changed: dict[str, Any] = {}
    if clean is not None:
        hook.secret = clean
        changed["new_secret"] = True
    if campaign_id is not _KEEP:
        hook.campaign_id = changed["campaign_id"] = campaign
    who = {"marketer_id": marketer_id, "actor": actor, "ip_hash": ip_hash}
    _audit(hook, "integration.update", changed, **who)
    return hook


@atomic
def delete_hook(
    hook: InboundHook,
    *,
    marketer_id: int | None = None,
    actor: str = "",
    ip_hash: str | None = None,
) -> None:
    """Remove a receiver: its address answers 404 from now on. The receipts stay (a
    receiver set up again acts on a delivery it saw before no second time)."""
    who = {"marketer_id": marketer_id, "actor": actor, "ip_hash": ip_hash}
    _audit(hook, "integration.delete", {"provider": hook.provider}, **who)
    db.session.delete(hook)


def _audit(hook: InboundHook, action: str, data: dict[str, Any], **who: Any) -> None:
    db.session.flush()
    audit.record(
        action,
        f"integration:{hook.id}",
        workspace_id=hook.workspace_id,
        data={"provider": hook.provider, **data},
        **who,
    )


def hooks_of(workspace_id: int) -> dict[str, InboundHook]:
    """The workspace's receivers by provider."""
    rows = db.session.scalars(select(InboundHook).where(InboundHook.workspace_id == workspace_id))
    return {hook.provider: hook for hook in rows}


def find_hook(workspace_id: int, hook_id: int | None) -> InboundHook:
    """:raise NotFound: for an id of another workspace exactly as for an unknown one."""
    found = None
    if hook_id is not None and 0 < hook_id <= MAX_ID:
        found = db.session.scalar(
            select(InboundHook).where(
                InboundHook.id == hook_id, InboundHook.workspace_id == workspace_id
            )
        )
    if found is None:
        raise NotFound(N_("No such integration."))
    return found


def hook_page(workspace_id: int, limit: Any, cursor: str | None) -> cursors.CursorPage[InboundHook]:
    """:raise ValidationFailed: on ``limit`` or ``cursor``."""
    query = select(InboundHook).where(InboundHook.workspace_id == workspace_id)
    return cursors.page(query, InboundHook.id, limit, cursor)


def recent_receipts(workspace_id: int, limit: int = 20) -> list[InboundReceipt]:
    """The workspace's last provider events, newest first."""
    return list(
        db.session.scalars(
            select(InboundReceipt)
            .where(InboundReceipt.workspace_id == workspace_id)
            .order_by(InboundReceipt.id.desc())
            .limit(limit)
        )
    )
