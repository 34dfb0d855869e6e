"""Workspace-scoped loading (DESIGN invariant 7)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from referral.domain.errors import N_, NotFound
from referral.extensions import db
from referral.models.base import WorkspaceScoped
from referral.services import audit

T = TypeVar("T", bound=WorkspaceScoped)

# Every primary key is an INTEGER: a larger number is no row, not a database error.
MAX_ID = 2**31 - 1

# One whole sentence per kind of row, so that each language can word (and inflect) it.
NOT_FOUND = {
    "apikey": N_("No such apikey."),
    "campaign": N_("No such campaign."),
    "customer": N_("No such customer."),
}


def _not_found(model: type) -> NotFound:
    name = model.__name__.lower()
    if name in NOT_FOUND:
        return NotFound(NOT_FOUND[name])
    return NotFound(N_("No such %(kind)s."), params={"kind": name})


def get_owned(model: type[T], ident: object, workspace_id: int) -> T:
    """The row of ``model`` with id ``ident`` in ``workspace_id``.

    :raise NotFound: when there is no such row *or* it belongs to another workspace: the
        two cases are indistinguishable on purpose, so ids of other brands leak nothing.
    """
    try:
        key = int(str(ident))
    except (TypeError, ValueError):
        raise _not_found(model) from None
    if not 0 < key <= MAX_ID:
        raise _not_found(model)
    row = db.session.scalar(
        select(model).where(model.id == key, model.workspace_id == workspace_id)
    )
    if row is None:
        _trace_foreign(model, key, workspace_id)
        raise _not_found(model)
    return row


def _trace_foreign(model: type[WorkspaceScoped], key: int, workspace_id: int) -> None:
    """An id that exists in *another* workspace leaves a trace in the asking workspace's
    audit log (the answer stays the same 404: nothing leaks to the caller)."""
    owner = db.session.scalar(select(model.workspace_id).where(model.id == key))
    if owner is not None and owner != workspace_id:
        audit.security_event(
            "access.other_workspace",
            f"{model.__name__.lower()}:{key}",
            workspace_id=workspace_id,
            outcome="denied",
        )
