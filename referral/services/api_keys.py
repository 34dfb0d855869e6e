"""API keys: create, revoke, authenticate."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from referral.domain.errors import N_, ValidationFailed
from referral.extensions import db
from referral.hashing import digest_api_key, new_api_key
from referral.models import ApiKey, Marketer, Workspace
from referral.models.base import utcnow
from referral.services import audit
from referral.services.tx import atomic

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
    db.session.flush()
    audit.record(
        "api_key.create",
        f"api_key:{key.id}",
        workspace_id=workspace.id,
        marketer_id=created_by.id if created_by else None,
        data={"name": name, "prefix": key.prefix},
    )
    db.session.commit()
    return key, secret


def revoke_api_key(key: ApiKey, revoked_by: Marketer | None = None) -> ApiKey:
    """Stop a key from working; idempotent (a second revocation records nothing)."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            "api_key.revoke",
            f"api_key:{key.id}",
            workspace_id=key.workspace_id,
            marketer_id=revoked_by.id if revoked_by else None,
            data={"prefix": key.prefix},
        )
        db.session.commit()
    return key


# A key's use is noted (and audited) at most once a minute: enough to see when and from
# where a key works, without a write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def record_use(key: ApiKey, ip_hash: str | None = None) -> None:
    """Note that ``key`` authenticated a request: ``last_used_at`` to the minute and an
    ``api_key.use`` audit entry with the hashed address (one unit of work, rolled back
    whole when it fails)."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return
    _note_use(key, now, ip_hash)


@atomic
def _note_use(key: ApiKey, now: datetime, ip_hash: str | None) -> None:
    key.last_used_at = now
    audit.record(
        "api_key.use",
        f"api_key:{key.id}",
        workspace_id=key.workspace_id,
        actor=f"api_key:{key.prefix}",
        ip_hash=ip_hash,
    )


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
