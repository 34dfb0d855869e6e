"""Tags on customers (``vip``, ``promoter_buyer``): set by a journey's ``tag`` step or by
the marketer, read by branch conditions. Adding a tag the customer did not have starts the
journeys whose trigger is that tag."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from referral.domain import tags
from referral.domain.errors import ValidationFailed
from referral.domain.journey_fields import BAD_TEXT, TEXT_MAX
from referral.extensions import db
from referral.models import Customer
from referral.models.base import utcnow
from referral.models.journey import CustomerTag
from referral.services.journey_enrolment import enrol_for_tag
from referral.services.rows import insert_once
from referral.services.tx import atomic


def checked_tag(tag: object) -> str:
    """The tag in its one spelling (``domain.tags.normal_tag``: stripped, lower-cased).

    :raise ValidationFailed: on ``tag`` unless it is 1 to 64 printable characters of the
        kinds a tag may hold.
    """
    if isinstance(tag, str) and 0 < len(tag.strip()) <= TEXT_MAX and tag.isprintable():
        return tags.checked_tag(tag)
    raise ValidationFailed.on("tag", BAD_TEXT, {"field": "tag", "max": TEXT_MAX})


@atomic
def add_tag(customer: Customer, tag: object, now: datetime | None = None) -> bool:
    """Tag the customer; True when the tag is new (then the journeys it starts enrol
    them). Adding a tag they have changes nothing, also under concurrent requests.

    :raise ValidationFailed: on ``tag``.
    """
    clean = checked_tag(tag)
    now = now or utcnow()
    added = insert_once(
        CustomerTag,
        {
            "workspace_id": customer.workspace_id,
            "customer_id": customer.id,
            "tag": clean,
            "created_at": now,
        },
        ("customer_id", "tag"),
    )
    if added is None:
        return False
    enrol_for_tag(customer, clean, now)
    return True


@atomic
def remove_tag(customer: Customer, tag: object) -> bool:
    """Take the tag off the customer; True when they had it.

    :raise ValidationFailed: on ``tag``.
    """
    clean = checked_tag(tag)
    removed = db.session.execute(
        delete(CustomerTag).where(CustomerTag.customer_id == customer.id, CustomerTag.tag == clean)
    ).rowcount
    return bool(removed)
