"""The people of a workspace: who is a member, with which role, and who is disabled.

An owner disables a marketer's membership of their workspace (and enables it again). A
disabled membership opens nothing: the admin ignores it, and every session of that
marketer ends at once, so a browser left signed in somewhere loses access now, not at its
next login.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from referral.domain.errors import N_, Conflict
from referral.extensions import db
from referral.models import Marketer, Membership, Workspace
from referral.models.base import utcnow
from referral.services import audit
from referral.services.tx import retry_on_contention


@dataclass(frozen=True)
class Member:
    membership_id: int
    marketer_id: int
    email: str
    name: str
    role: str
    disabled: bool
    last_login_at: datetime | None


def list_members(workspace_id: int) -> list[Member]:
    """Every member of the workspace, enabled or not, oldest membership first."""
    rows = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.marketer))
        .where(Membership.workspace_id == workspace_id)
        .order_by(Membership.id)
    )
    return [
        Member(
            membership_id=m.id,
            marketer_id=m.marketer_id,
            email=m.marketer.email,
            name=m.marketer.name,
            role=m.role,
            disabled=m.disabled_at is not None,
            last_login_at=m.marketer.last_login_at,
        )
        for m in rows
    ]


def member_ids(workspace_id: int) -> list[int]:
    """The marketers who are or were let into the workspace (disabled ones included)."""
    return list(
        db.session.scalars(
            select(Membership.marketer_id).where(Membership.workspace_id == workspace_id)
        )
    )


@retry_on_contention
def set_disabled(
    workspace: Workspace,
    membership: Membership,
    by: Marketer,
    disabled: bool,
    *,
    ip_hash: str | None = None,
) -> bool:
    """Disable (or enable again) ``membership``; True when that changed anything.

    Disabling ends every session of the marketer at once. Doing what is already done
    changes nothing and is not audited again.

    :raise Conflict: when ``by`` would disable their own membership (an owner who locks
        themselves out needs another owner, or the operator, to get back in).
    """
    if membership.marketer_id == by.id and disabled:
        raise Conflict(N_("You cannot disable your own membership."))
    if (membership.disabled_at is not None) == disabled:
        return False
    membership.disabled_at = utcnow() if disabled else None
    if disabled:
        marketer = db.session.get(Marketer, membership.marketer_id)
        assert marketer is not None  # the foreign key cascades deletes
        marketer.session_token = secrets.token_hex(32)
    audit.record(
        "member.disable" if disabled else "member.enable",
        f"marketer:{membership.marketer_id}",
        workspace_id=workspace.id,
        marketer_id=by.id,
        ip_hash=ip_hash,
        data={"role": membership.role},
    )
    db.session.commit()
    return True
