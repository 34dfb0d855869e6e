"""Tags a marketer or an integrator puts on a customer or takes off (audited as
``customer.tagged`` and ``customer.untagged``), and the tags of many customers read at once.

The tags live in ``customer_tags`` alone (``models.journey.CustomerTag``), in one spelling
(``domain.tags``); journeys set them through ``services.journey_tags`` too, so adding a tag
here starts the journeys whose trigger is that tag.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from referral.extensions import db
from referral.models import Customer
from referral.models.journey import CustomerTag
from referral.services import audit, journey_tags
from referral.services.privacy import Actor
from referral.services.tx import atomic

# How many of the workspace's tag names the admin suggests while one is typed.
SUGGESTIONS = 200


def audit_tag(action: str, customer: Customer, tag: str, by: Actor) -> None:
    """Record a tag put on (``customer.tagged``) or taken off (``customer.untagged``)."""
    audit.record(
        action,
        f"customer:{customer.id}",
        workspace_id=customer.workspace_id,
        marketer_id=by.marketer_id,
        actor=by.label,
        ip_hash=by.ip_hash,
        data={"tag": tag},
    )


@atomic
def tag_customer(customer: Customer, tag: object, by: Actor) -> tuple[str, bool]:
    """Put ``tag`` on the customer: (its spelling, whether it is new). A new tag is audited
    and starts the journeys it triggers; a tag they had changes nothing.

    :raise ValidationFailed: on ``tag``.
    """
    clean = journey_tags.checked_tag(tag)
    added = journey_tags.add_tag(customer, clean)
    if added:
        audit_tag("customer.tagged", customer, clean, by)
    return clean, added


@atomic
def untag_customer(customer: Customer, tag: object, by: Actor) -> tuple[str, bool]:
    """Take ``tag`` off the customer: (its spelling, whether they had it; then audited).

    :raise ValidationFailed: on ``tag``.
    """
    clean = journey_tags.checked_tag(tag)
    removed = journey_tags.remove_tag(customer, clean)
    if removed:
        audit_tag("customer.untagged", customer, clean, by)
    return clean, removed


def tags_of(customer_id: int) -> list[str]:
    """The customer's tags, sorted."""
    query = select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id)
    return sorted(db.session.scalars(query))


def tags_by_customer(customer_ids: Iterable[int]) -> dict[int, list[str]]:
    """The sorted tags of each of ``customer_ids`` (those without any are absent), in one
    query."""
    ids = list(customer_ids)
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(CustomerTag.customer_id, CustomerTag.tag)
        .where(CustomerTag.customer_id.in_(ids))
        .order_by(CustomerTag.customer_id, CustomerTag.tag)
    )
    for customer_id, tag in rows:
        found.setdefault(customer_id, []).append(tag)
    return found


def workspace_tags(workspace_id: int) -> list[str]:
    """The tags the workspace's customers carry, alphabetically (at most
    :data:`SUGGESTIONS`)."""
    query = (
        select(CustomerTag.tag)
        .where(CustomerTag.workspace_id == workspace_id)
        .distinct()
        .order_by(CustomerTag.tag)
        .limit(SUGGESTIONS)
    )
    return list(db.session.scalars(query))
