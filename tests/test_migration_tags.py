"""Migration 0019 moves the tags of the old ``customers.tags`` column into ``customer_tags``
in their one spelling, and neither it nor its downgrade loses a customer's other rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, bindparam, inspect, text

from referral.extensions import db
from tests.conftest import app_on_own_database
from tests.factories import Factory


@pytest.fixture
def migrated_app(tmp_path, database_url) -> Iterator[Flask]:
    """An app on an empty database of its own (not the shared test schema)."""
    with app_on_own_database(tmp_path, database_url, "tags") as app:
        yield app


def _tags() -> dict[int, list[str]]:
    rows = db.session.execute(
        text("SELECT customer_id, tag FROM customer_tags ORDER BY customer_id, tag")
    )
    found: dict[int, list[str]] = {}
    for customer_id, tag in rows:
        found.setdefault(customer_id, []).append(tag)
    return found


def _kept() -> tuple[int, int, int]:
    """What cascades from a customer: participations, consents, events."""
    return tuple(  # type: ignore[return-value]
        db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 (fixed names)
        for table in ("participations", "consent_records", "events")
    )


def _set_column(customer_id: int, tags: object) -> None:
    db.session.execute(
        text("UPDATE customers SET tags = :tags WHERE id = :id").bindparams(
            bindparam("tags", type_=JSON)
        ),
        {"tags": tags, "id": customer_id},
    )


def _add_row(workspace_id: int, customer_id: int, tag: str) -> None:
    db.session.execute(
        text(
            "INSERT INTO customer_tags (workspace_id, customer_id, tag, created_at) "
            "VALUES (:ws, :c, :tag, CURRENT_TIMESTAMP)"
        ),
        {"ws": workspace_id, "c": customer_id, "tag": tag},
    )


def test_upgrading_to_0019_moves_the_column_tags_into_customer_tags_in_one_spelling(
    migrated_app: Flask,
) -> None:
    with migrated_app.app_context():
        upgrade()  # the rows are written with today's models, then taken back to 0018
        factory = Factory()
        campaign = factory.campaign(status="live")
        people = [factory.participation(campaign, status="confirmed") for _ in range(4)]
        ann, bob, cem, dee = (p.customer_id for p in people)
        workspace_id = campaign.workspace_id
        db.session.commit()
        db.session.remove()
        before = _kept()
        db.session.remove()  # no read of participations left open while the index is dropped
        downgrade(revision="0018")
        assert _kept() == before  # the column came back in place, nothing cascaded away
        _set_column(ann, ["VIP", " vip ", "Early  Bird"])
        _set_column(bob, ["=cmd", "a,b", "", 7, "-"])
        _set_column(cem, ["Buyer"])
        _add_row(workspace_id, cem, "buyer")  # the same tag in both places: one row
        _add_row(workspace_id, dee, "Loyal")  # a row of the old spelling: respelled
        _add_row(workspace_id, dee, "loyal")
        db.session.commit()
        db.session.remove()
        upgrade(revision="0019")
        moved = _tags()
        columns = {c["name"] for c in inspect(db.engine).get_columns("customers")}
        assert _kept() == before
        db.session.remove()
        downgrade(revision="0018")
        restored = db.session.execute(text("SELECT tags FROM customers ORDER BY id")).all()
        back = _tags()
        assert _kept() == before
        db.session.remove()
        upgrade()
    assert moved == {
        ann: ["early bird", "vip"],
        bob: ["a b", "cmd"],
        cem: ["buyer"],
        dee: ["loyal"],
    }
    assert "tags" not in columns
    assert restored and all(row[0] in ("[]", []) for row in restored)  # back, empty
    assert back == moved  # the tags stay where the code before 0019 reads them too
