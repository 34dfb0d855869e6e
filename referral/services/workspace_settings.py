"""A workspace's own settings: the cap on marketing mail from its journeys.

The cap (``workspaces.mail_cap_limit`` in ``mail_cap_days``, 3 in 7 until an owner changes
it) counts the messages every journey of the workspace sent a customer; the runner asks it
before each ``send`` step (``services.journey_messages``), and a message past it is logged
``skipped:cap``. A change counts from the next step that sends and is audited.
"""

from __future__ import annotations

from referral.domain.consent_topics import DEFAULT_WORKSPACE_CAP, Cap, checked_cap
from referral.extensions import db
from referral.models import Workspace
from referral.services import audit
from referral.services.tx import retry_on_contention


def mail_cap(workspace_id: int) -> Cap:
    """The workspace's cap on marketing mail per customer (the default for one that is
    gone)."""
    workspace = db.session.get(Workspace, workspace_id)
    if workspace is None:
        return DEFAULT_WORKSPACE_CAP
    return Cap(workspace.mail_cap_limit, workspace.mail_cap_days)


@retry_on_contention
def set_mail_cap(
    workspace: Workspace,
    limit: object,
    days: object,
    *,
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> Cap:
    """Save the workspace's cap: at most ``limit`` (1–50) messages in ``days`` (1–90), and
    audit the change (``workspace.mail_cap``); the same cap again changes nothing.

    :raise ValidationFailed: ``limit`` or ``days`` is not a whole number in its range
        (nothing is stored).
    """
    cap = checked_cap(limit, days)
    was = Cap(workspace.mail_cap_limit, workspace.mail_cap_days)
    if cap == was:
        return cap
    workspace.mail_cap_limit, workspace.mail_cap_days = cap.limit, cap.days
    audit.record(
        "workspace.mail_cap",
        f"workspace:{workspace.id}",
        workspace_id=workspace.id,
        marketer_id=marketer_id,
        ip_hash=ip_hash,
        data={"limit": cap.limit, "days": cap.days, "was": [was.limit, was.days]},
    )
    db.session.commit()
    return cap
