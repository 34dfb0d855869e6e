"""Rows written once and inserts run on the driver: what a reader of the session and of the
database sees must be what a flushed ``session.add`` would have left."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, inspect, literal, select
from sqlalchemy.exc import IntegrityError

from referral.extensions import db
from referral.models import Customer, Event, Participation
from referral.services import fraud_signals
from referral.services.rows import (
    first_row,
    insert,
    insert_many_once,
    insert_once,
    insert_row,
    insert_row_once,
    insert_rows,
    insert_rows_once,
    rows_where,
    update_row,
)
from tests.factories import Factory


@pytest.fixture
def sent(app) -> Iterator[list[str]]:
    """The statements the engine's ``before_cursor_execute`` listeners see."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def _event(customer: Customer, kind: str = "purchase", **extra: object) -> dict[str, object]:
    return {
        "workspace_id": customer.workspace_id,
        "customer_id": customer.id,
        "kind": kind,
        "occurred_at": datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        **extra,
    }


def test_an_inserted_row_is_the_sessions_object_persistent_and_clean(factory: Factory) -> None:
    customer = factory.customer(factory.workspace())
    row = insert_row(Event, _event(customer, amount=1250, currency="EUR"))
    state = inspect(row)
    assert state.persistent and not state.modified
    assert db.session.get(Event, row.id) is row
    assert row.data == {}  # the column's Python default, filled in
    assert row.created_at is not None


def test_what_was_inserted_reads_back_the_same_from_the_database(factory: Factory) -> None:
    customer = factory.customer(factory.workspace())
    when = datetime(2026, 5, 1, 14, 30, tzinfo=UTC) + timedelta(microseconds=7)
    row = insert_row(Event, _event(customer, data={"sku": "A1", "n": 2}, occurred_at=when))
    new_id, created = row.id, row.created_at
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Event, new_id)
    assert stored is not None
    assert (stored.kind, stored.data, stored.occurred_at) == (
        "purchase",
        {"sku": "A1", "n": 2},
        when,
    )
    assert stored.created_at == created


def test_a_duplicate_raises_integrity_error_and_the_unit_can_roll_back(factory: Factory) -> None:
    workspace = factory.workspace()
    customer = factory.customer(workspace)
    campaign = factory.campaign(workspace)
    values = _event(customer, campaign_id=campaign.id, external_id="order-1")
    insert_row(Event, values)
    db.session.commit()
    with pytest.raises(IntegrityError):
        insert_row(Event, values)
    db.session.rollback()
    assert db.session.scalar(select(Event.id).where(Event.external_id == "order-1")) is not None


def test_insert_once_skips_a_duplicate_and_says_so(factory: Factory) -> None:
    workspace = factory.workspace()
    customer = factory.customer(workspace)
    campaign = factory.campaign(workspace)
    values = _event(customer, campaign_id=campaign.id, external_id="order-2")
    key = ("campaign_id", "kind", "external_id")
    first = insert_once(Event, values, key)
    assert isinstance(first, int)
    assert insert_once(Event, values, key) is None
    assert insert_row_once(Event, values, key) is None
    assert insert_row_once(Event, {**values, "external_id": "order-3"}, key) is not None
    ids = db.session.scalars(select(Event.id).where(Event.campaign_id == campaign.id)).all()
    assert len(ids) == 2


def test_rows_inserted_once_together_are_matched_to_their_rows_in_one_statement(
    factory: Factory, sent: list[str]
) -> None:
    workspace = factory.workspace()
    customer = factory.customer(workspace)
    campaign = factory.campaign(workspace)
    key = ("campaign_id", "kind", "external_id")
    existing = insert_row_once(
        Event, _event(customer, campaign_id=campaign.id, external_id="b"), key
    )
    assert existing is not None
    rows = [
        _event(customer, campaign_id=campaign.id, external_id=name, amount=n)
        for n, name in enumerate(["c", "b", "a", "d"])
    ]
    sent.clear()
    made = insert_rows_once(Event, rows, key)
    assert len(sent) == 1  # one statement for the four rows
    assert made[1] is None  # "b" existed: skipped, and said so in its place
    for row, found in zip(rows, made, strict=True):
        if found is None:
            continue
        assert (found.external_id, found.amount) == (row["external_id"], row["amount"])
        assert inspect(found).persistent and not inspect(found).modified
    db.session.expire_all()
    stored = {
        e.external_id: (e.id, e.amount)
        for e in db.session.scalars(select(Event).where(Event.campaign_id == campaign.id))
    }
    assert stored == {
        "b": (existing.id, None),
        **{m.external_id: (m.id, m.amount) for m in made if m is not None},
    }
    assert insert_rows_once(Event, rows, key) == [None, None, None, None]  # all exist now
    twice = [_event(customer, campaign_id=campaign.id, external_id="e", amount=n) for n in (1, 2)]
    first, second = insert_rows_once(Event, twice, key)  # the same key twice in one batch
    assert first is not None and first.amount == 1
    assert second is None
    db.session.expire(first)  # the row stored is the first of the two
    assert first.amount == 1
    assert insert_rows_once(Event, [], key) == []


def test_rows_inserted_together_get_their_own_ids_in_one_statement(
    factory: Factory, sent: list[str]
) -> None:
    workspace = factory.workspace()
    customer = factory.customer(workspace)
    insert_row(Event, _event(customer, amount=0))  # an id drawn before, so ids do not start at 1
    # Differing values in every column, so that a row given another's id would show.
    rows = [
        _event(
            customer,
            kind=f"kind{n}",
            amount=amount,
            data={"n": n, "tags": ["x"] * n},
            occurred_at=datetime(2026, 5, 1, 12, n, tzinfo=UTC),
        )
        for n, amount in enumerate([30, 10, 20, 50, 40])
    ]
    sent.clear()
    made = insert_rows(Event, rows)
    assert len(sent) == 1  # one statement for the five rows
    assert [m.id for m in made] == sorted(m.id for m in made)  # drawn in the order given
    for row, found in zip(rows, made, strict=True):
        assert (found.kind, found.amount, found.data, found.occurred_at) == (
            row["kind"],
            row["amount"],
            row["data"],
            row["occurred_at"],
        )
        assert inspect(found).persistent and not inspect(found).modified
        assert db.session.get(Event, found.id) is found
    ids, customer_id = [found.id for found in made], customer.id
    db.session.commit()
    db.session.expunge_all()
    for row, new_id in zip(rows, ids, strict=True):
        stored = db.session.get(Event, new_id)
        assert stored is not None
        assert (stored.kind, stored.amount, stored.data) == (
            row["kind"],
            row["amount"],
            row["data"],
        )
    customer = db.session.get_one(Customer, customer_id)
    one = insert_rows(Event, [_event(customer, kind="alone")])
    assert [e.kind for e in one] == ["alone"]
    assert insert_rows(Event, []) == []


def test_pending_changes_are_flushed_before_the_insert(factory: Factory) -> None:
    workspace = factory.workspace()
    customer = Customer(
        id=4242, workspace_id=workspace.id, email="new@example.org", email_display="new@example.org"
    )
    db.session.add(customer)  # not flushed: the event's foreign key needs it in the database
    insert(Event, _event(customer))
    db.session.commit()
    assert db.session.scalar(select(Event.customer_id)) == 4242


def test_the_engine_listeners_see_each_driver_insert(factory: Factory, sent: list[str]) -> None:
    customer = factory.customer(factory.workspace())
    sent.clear()
    insert(Event, _event(customer))
    insert_many_once(
        Event,
        [_event(customer, external_id=f"m{i}", campaign_id=None) for i in range(3)],
        ("campaign_id", "kind", "external_id"),
    )
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT INTO EVENTS")]
    assert len(inserts) == 2  # one statement each, the many rows in one executemany
    assert db.session.scalar(select(db.func.count()).select_from(Event)) == 4


def test_a_stale_object_of_a_reused_id_is_refreshed_not_duplicated(factory: Factory) -> None:
    customer = factory.customer(factory.workspace())
    row = insert_row(Event, _event(customer, kind="purchase"))
    old_id = row.id
    db.session.execute(Event.__table__.delete().where(Event.__table__.c.id == old_id))  # stale
    again = insert_row(Event, {**_event(customer, kind="refund"), "id": old_id})
    assert again is row and again.kind == "refund"


def test_an_updated_row_is_written_and_its_object_stays_clean(factory: Factory) -> None:
    workspace = factory.workspace()
    participation = factory.participation(factory.campaign(workspace, status="live"))
    when = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    update_row(participation, {"status": "confirmed", "confirmed_at": when})
    state = inspect(participation)
    assert not state.modified and participation.status == "confirmed"
    row_id = participation.id
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Participation, row_id)
    assert stored is not None and (stored.status, stored.confirmed_at) == ("confirmed", when)


def _columns(row: object) -> dict[str, object]:
    mapper = inspect(row).mapper
    return {a.key: getattr(row, a.key) for a in mapper.column_attrs}


def test_rows_where_gives_what_a_query_gives(app, factory: Factory, sent) -> None:
    campaign = factory.campaign(status="live")
    people = [
        factory.participation(
            campaign,
            utm={"utm_source": "ü", "n": [1, 2]},
            flag_reasons=["burst"],
            confirmed_at=datetime(2026, 12, 7, 10, 30, tzinfo=UTC),
        ),
        factory.participation(campaign),
    ]
    ids = [p.id for p in people]
    db.session.commit()
    expected = {
        p.id: _columns(p)
        for p in db.session.scalars(select(Participation).where(Participation.id.in_(ids)))
    }
    db.session.expunge_all()
    sent.clear()
    found = rows_where(Participation, "id", ids)
    assert {p.id: _columns(p) for p in found} == expected
    assert len(sent) == 1  # one statement, and no load afterwards
    assert found[0].confirmed_at.tzinfo is not None
    assert all(p in db.session and p not in db.session.dirty for p in found)
    by_code = rows_where(Participation, "referral_code", [people[1].referral_code])
    assert by_code == [found[1]]  # the session's own object
    assert rows_where(Participation, "referral_code", ["nobody"]) == []
    assert rows_where(Participation, "id", []) == []


def test_rows_where_keeps_the_sessions_changes_unless_refreshed(app, factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    person = factory.participation(campaign, status="pending")
    db.session.commit()
    person.status = "flagged"  # not flushed
    db.session.autoflush = False
    try:
        assert rows_where(Participation, "id", [person.id])[0].status == "flagged"
        with db.engine.begin() as other:
            other.execute(
                Participation.__table__.update()
                .where(Participation.__table__.c.id == person.id)
                .values(status="confirmed")
            )
        refreshed = rows_where(Participation, "id", [person.id], for_update=True, refresh=True)
        assert refreshed == [person]
        # As stored now: locking reads the other connection's commit (on SQLite the lock
        # ends the reading transaction and its snapshot first).
        assert person.status == "confirmed"
        assert person not in db.session.dirty
    finally:
        db.session.autoflush = True
        db.session.rollback()


def test_rows_where_for_update_takes_sqlites_write_lock_first(app, factory: Factory) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the row itself (FOR UPDATE)")
    person = factory.participation(factory.campaign(status="live"))
    db.session.commit()
    rows_where(Participation, "id", [person.id])
    assert db.session.connection().info.get("sqlite_tx") == "reading"
    rows_where(Participation, "id", [person.id], for_update=True, refresh=True)
    assert db.session.connection().info.get("sqlite_tx") == "writing"
    db.session.rollback()


_CREATED_OF_CODE = select(Participation.created_at, Participation.status, literal(7)).where(
    Participation.referral_code == bindparam("code")
)


def test_first_row_gives_what_the_session_gives(app, factory: Factory, sent) -> None:
    campaign = factory.campaign(status="live")
    person = factory.participation(campaign, ip_hash="ip-1", agent_hash=None)
    factory.participation(campaign, person, ip_hash="ip-1", agent_hash=None)
    db.session.commit()
    now = datetime.now(UTC)
    values = {
        "campaign_id": campaign.id,
        "ip": "ip-1",
        "agent": None,
        "day_ago": now - timedelta(days=1),
        "code": person.referral_code,
        "hour_ago": now - timedelta(hours=1),
    }
    queries = [*fraud_signals._DEVICE_QUERIES.values(), *fraud_signals._OWNER_QUERIES.values()]
    for query in queries:
        expected = tuple(db.session.execute(query, values).one())
        sent.clear()
        assert first_row(query, values) == expected
        assert len(sent) == 1
    counts = first_row(fraud_signals._OWNER_QUERIES[(True, False)], values)
    assert counts is not None and counts[-2:] == (2, 1)
    created = first_row(_CREATED_OF_CODE, {"code": person.referral_code})
    assert created == (person.created_at, person.status, 7)
    assert created is not None and created[0].tzinfo is not None  # its result processor
    assert first_row(_CREATED_OF_CODE, {"code": "nobody"}) is None
