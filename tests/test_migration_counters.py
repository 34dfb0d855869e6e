"""Migration 0013 fills the counters from the clicks and participations already stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import Click, Counter
from referral.services import counters
from tests.conftest import app_on_own_database
from tests.factories import Factory


@pytest.fixture
def migrated_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app on an empty database of its own (not the shared test schema)."""
    with app_on_own_database(tmp_path, database_url, "counters") as app:
        yield app


def test_upgrading_to_0013_counts_the_clicks_and_participations_already_stored(
    migrated_app: Flask,
) -> None:
    with migrated_app.app_context():
        upgrade()  # the rows are written with today's models, then taken back to 0012
        factory = Factory()
        campaign = factory.campaign(status="live")
        root = factory.participation(campaign, status="confirmed")
        friends = [
            factory.participation(campaign, root, status=status)
            for status in ("confirmed", "pending", "flagged", "rejected", "confirmed")
        ]
        factory.participation(campaign, friends[0], status="pending")
        when = datetime(2026, 12, 1, tzinfo=UTC)
        for owner, n in ((root, 3), (friends[1], 2)):
            for _ in range(n):
                db.session.add(
                    Click(campaign_id=campaign.id, participation_id=owner.id, created_at=when)
                )
        db.session.commit()
        campaign_id, root_id = campaign.id, root.id
        db.session.remove()
        downgrade(revision="0012")  # the rows stay; the counters go (and what came later)
        upgrade(revision="0013")
        truth = {k: v for k, v in counters.truth(campaign_id).items() if v}
        rows = db.session.execute(
            select(Counter.participation_id, Counter.name, func.sum(Counter.value))
            .where(Counter.campaign_id == campaign_id)
            .group_by(Counter.participation_id, Counter.name)
        )
        filled = {(campaign_id, pid, name): int(n) for pid, name, n in rows}
        db.session.remove()
    assert filled == truth
    assert filled[(campaign_id, counters.CAMPAIGN, counters.CLICKS)] == 5
    assert filled[(campaign_id, root_id, "referrals:confirmed")] == 2
    assert filled[(campaign_id, counters.CAMPAIGN, "status:pending")] == 2
