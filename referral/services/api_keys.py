"""API keys: create, revoke, authenticate."""

from __future__ import annotations

from sqlalchemy import select

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.models import ApiKey, Marketer, Workspace
from referral.models.base import utcnow
from referral.security import digest_api_key, new_api_key

NAME_MAX = 120


def create_api_key(
    workspace: Workspace, name: str, created_by: Marketer | None = None
) -> tuple[ApiKey, str]:
    """A new key for ``workspace``. The secret is returned once; only its hash is kept.

    :raise ValidationFailed: on ``name`` when empty or too long.
    """
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed.on(
            "name", N_("Name the key (1 to %(max)s characters)."), {"max": NAME_MAX}
        )
    secret = new_api_key()
    key = ApiKey(
        workspace_id=workspace.id,
        name=name,
        prefix=secret[:10],
        key_hash=digest_api_key(secret),
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(key)
    db.session.commit()
    return key, secret


def revoke_api_key(key: ApiKey) -> ApiKey:
    """Stop a key from working; idempotent."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    return key


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The live key matching ``secret``, or None. Looked up by hash (constant-time in effect:
    the comparison happens inside the database on a digest the caller cannot steer)."""
    if not secret or len(secret) > 200:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest_api_key(secret)))
    if key is None or key.revoked_at is not None:
        return None
    return key


def list_api_keys(workspace_id: int) -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.id.desc())
        )
    )
