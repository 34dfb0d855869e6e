"""The demo's tags and saved segment: the segment holds the tagged advocates, once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from referral.demo.seed import seed_demo
from referral.demo.segments import SEGMENT, seed_demo_segments
from referral.extensions import db
from referral.models import Segment, Workspace
from referral.models.journey import CustomerTag
from referral.services import segments


def test_the_demo_tags_its_advocates_and_saves_a_segment_of_them_once(app: Flask) -> None:
    seed_demo(participants=150)
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
    assert workspace is not None
    saved = db.session.scalars(select(Segment).where(Segment.workspace_id == workspace.id)).one()
    assert (saved.name, saved.filters) == (SEGMENT, {"status": "confirmed", "tag": "vip"})
    page = segments.customer_page(workspace.id, segments.segment_filter(saved))
    assert page.total > 0 and all("vip" in row.tags for row in page.rows)
    tags = db.session.scalar(select(func.count()).select_from(CustomerTag))
    assert set(db.session.scalars(select(CustomerTag.tag).distinct())) >= {"vip", "in store"}
    assert seed_demo_segments(workspace.id) == 0
    seed_demo(participants=150)
    assert db.session.scalar(select(func.count()).select_from(CustomerTag)) == tags
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 1
