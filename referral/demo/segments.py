"""The demo's tags and saved segment: the campaign's top advocates tagged ``vip``, a few of
the friends who came through a QR code tagged ``in store``, and the segment "VIP advocates"
(confirmed customers tagged ``vip``), so the customer list shows a filter, its tags and a
segment to open and export.

Tags are put on as a marketer would (audited, starting the journeys of the tag). Idempotent:
a workspace that has the segment is left alone.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from referral.extensions import db
from referral.models import Campaign, Customer, Participation, Segment
from referral.services import customer_tags, segments
from referral.services.privacy import Actor

SEGMENT = "VIP advocates"
DEMO = Actor(label="demo")


def _advocates(workspace_id: int, count: int) -> list[int]:
    """The customers whose confirmed friends are most, first by id on a tie."""
    friend = aliased(Participation)
    rows = db.session.execute(
        select(Participation.customer_id, func.count(friend.id))
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .join(friend, friend.referrer_id == Participation.id)
        .where(Campaign.workspace_id == workspace_id, friend.status == "confirmed")
        .group_by(Participation.customer_id)
        .order_by(func.count(friend.id).desc(), Participation.customer_id)
        .limit(count)
    )
    return [customer_id for customer_id, _ in rows]


def _in_store(workspace_id: int, count: int) -> list[int]:
    rows = db.session.scalars(
        select(Participation.customer_id)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .where(Campaign.workspace_id == workspace_id, Participation.channel == "qr")
        .order_by(Participation.id)
        .limit(count)
    )
    return list(rows)


def seed_demo_segments(workspace_id: int) -> int:
    """Tag the demo's customers and save its segment; returns how many tags were put on (0
    when the segment is there)."""
    exists = db.session.scalar(
        select(Segment.id).where(Segment.workspace_id == workspace_id, Segment.name == SEGMENT)
    )
    if exists is not None:
        return 0
    added = 0
    for tag, people in (
        ("vip", _advocates(workspace_id, 12)),
        ("in store", _in_store(workspace_id, 8)),
    ):
        for customer_id in people:
            customer = db.session.get(Customer, customer_id)
            assert customer is not None
            added += customer_tags.tag_customer(customer, tag, DEMO)[1]
    segments.save_segment(workspace_id, SEGMENT, {"tag": "vip", "status": "confirmed"}, DEMO)
    return added
