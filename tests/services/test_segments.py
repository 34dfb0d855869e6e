"""The customer list narrowed by filters and saved segments, asked of the services: each
filter, combinations, another workspace never showing through, tags in one spelling, and
the CSV export (neutralised, audited, in batches)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from referral.domain.errors import NotFound, ValidationFailed
from referral.domain.segments import CustomerFilter, parse_filter
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Participation,
    Workspace,
)
from referral.services import customer_tags, segment_exports, segments
from referral.services.privacy import Actor
from tests.factories import Factory

OLD = datetime(2026, 1, 10, tzinfo=UTC)
RECENT = datetime(2026, 6, 10, tzinfo=UTC)
BY = Actor(label="marketer:test")
_keys = itertools.count(1)


def event(person: Customer, at: datetime, campaign: Campaign | None = None) -> Event:
    row = Event(
        workspace_id=person.workspace_id,
        customer_id=person.id,
        campaign_id=campaign.id if campaign else None,
        kind="purchase",
        occurred_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def points(participation: Participation, amount: int, status: str = "approved") -> None:
    source = event(db.session.get(Customer, participation.customer_id), OLD)
    db.session.add(
        LedgerEntry(
            participation_id=participation.id,
            source_event_id=source.id,
            source_key=f"test:{next(_keys)}",
            level=0,
            reward="points",
            amount=amount,
            status=status,
        )
    )
    db.session.commit()


def consent(person: Customer, topic: str, action: str, at: datetime) -> None:
    db.session.add(
        ConsentRecord(
            customer_id=person.id,
            purpose=topic,
            text="E-mail me news and offers.",
            version="1",
            given_at=at,
            action=action,
        )
    )
    db.session.commit()


def born(person: Customer, at: datetime) -> None:
    person.created_at = at
    db.session.commit()


class World:
    """Two campaigns of one workspace and a few people in them; another workspace with a
    look-alike of each."""

    def __init__(self, factory: Factory) -> None:
        self.workspace = factory.workspace()
        self.spring = factory.campaign(self.workspace, status="live")
        self.autumn = factory.campaign(self.workspace, status="live")
        self.ann = factory.participation(self.spring, status="confirmed", channel="email")
        self.bob = factory.participation(self.spring, self.ann, status="pending", channel="qr")
        self.cem = factory.participation(self.spring, self.bob, status="confirmed", channel="qr")
        self.dee = factory.participation(self.autumn, status="confirmed", channel="email")
        self.people = {
            name: db.session.get(Customer, p.customer_id)
            for name, p in (("ann", self.ann), ("bob", self.bob), ("cem", self.cem))
        }
        self.people["dee"] = db.session.get(Customer, self.dee.customer_id)
        self.other = factory.workspace()
        theirs = factory.campaign(self.other, status="live")
        self.stranger = factory.participation(theirs, status="confirmed", channel="email")
        stranger = db.session.get(Customer, self.stranger.customer_id)
        customer_tags.tag_customer(stranger, "vip", BY)
        points(self.stranger, 500)
        consent(stranger, "marketing", "given", OLD)
        for person in self.people.values():
            born(person, OLD)
        born(stranger, OLD)

    def names(self, **params: Any) -> list[str]:
        found = segments.checked_filter(self.workspace.id, params)
        page = segments.customer_page(self.workspace.id, found)
        ids = {row.customer.id: name for name, row in self._named(page.rows)}
        return sorted(ids.values())

    def _named(self, rows: list[Any]) -> list[tuple[str, Any]]:
        by_id = {person.id: name for name, person in self.people.items()}
        return [(by_id.get(row.customer.id, "stranger"), row) for row in rows]

    def customer(self, name: str) -> Customer:
        return self.people[name]


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements the block sends to the database."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def world(factory: Factory) -> World:
    return World(factory)


def test_an_empty_filter_lists_every_customer_of_the_workspace_only(world: World) -> None:
    assert world.names() == ["ann", "bob", "cem", "dee"]


def test_campaign_keeps_its_participants(world: World) -> None:
    assert world.names(campaign=str(world.autumn.id)) == ["dee"]
    assert world.names(campaign=str(world.spring.id)) == ["ann", "bob", "cem"]


def test_another_workspaces_campaign_is_refused_as_no_campaign(world: World) -> None:
    theirs = db.session.get(Participation, world.stranger.id)
    assert theirs is not None
    with pytest.raises(ValidationFailed) as refused:
        world.names(campaign=str(theirs.campaign_id))
    assert refused.value.errors == {"campaign": ["No such campaign."]}


def test_status_channel_and_generation_each_narrow(world: World) -> None:
    assert world.names(status="pending") == ["bob"]
    assert world.names(channel="qr") == ["bob", "cem"]
    assert world.names(generation="0") == ["ann", "dee"]
    assert world.names(generation="2") == ["cem"]


def test_participation_conditions_hold_for_one_and_the_same_participation(
    world: World, factory: Factory
) -> None:
    # Dee is confirmed in autumn and pending in spring: "pending in autumn" is nobody.
    factory.participation(world.spring, customer=world.customer("dee"), status="pending")
    assert world.names(campaign=str(world.autumn.id), status="pending") == []
    assert world.names(campaign=str(world.spring.id), status="pending") == ["bob", "dee"]
    assert world.names(status="confirmed", channel="qr", generation="2") == ["cem"]


def test_tag_finds_the_tagged_in_any_spelling(world: World) -> None:
    customer_tags.tag_customer(world.customer("ann"), "  VIP ", BY)
    customer_tags.tag_customer(world.customer("cem"), "vip", BY)
    customer_tags.tag_customer(world.customer("bob"), "newcomer", BY)
    assert world.names(tag="Vip") == ["ann", "cem"]
    assert world.names(tag="vip", channel="qr") == ["cem"]


def test_points_is_the_balance_at_least_n_without_void_lines(world: World) -> None:
    points(world.ann, 100)
    points(world.ann, 50, "pending")
    points(world.bob, 400, "void")
    points(world.bob, 20)
    points(world.dee, 150)
    assert world.names(points_min="150") == ["ann", "dee"]
    assert world.names(points_min="151") == []
    assert world.names(points_min="0") == ["ann", "bob", "cem", "dee"]
    assert world.names(points_min="150", campaign=str(world.autumn.id)) == ["dee"]


def test_last_activity_before_and_after_a_day(world: World) -> None:
    event(world.customer("ann"), RECENT)
    event(world.customer("bob"), OLD)
    born(world.customer("dee"), RECENT)
    assert world.names(active_after="2026-06-01") == ["ann", "dee"]
    assert world.names(active_before="2026-06-01") == ["bob", "cem"]
    # Ann was active on 10 June: after the 10th (included), not before it.
    assert world.names(active_after="2026-06-10") == ["ann", "dee"]
    assert world.names(active_before="2026-06-10") == ["bob", "cem"]
    assert world.names(active_after="2026-01-01", active_before="2026-06-01") == ["bob", "cem"]


def test_consent_topic_follows_the_latest_record(world: World) -> None:
    consent(world.customer("ann"), "marketing", "given", OLD)
    consent(world.customer("bob"), "marketing", "given", OLD)
    consent(world.customer("bob"), "marketing", "withdrawn", RECENT)
    consent(world.customer("cem"), "marketing", "withdrawn", OLD)
    consent(world.customer("cem"), "marketing", "given", RECENT)
    consent(world.customer("dee"), "birthday", "given", OLD)
    assert world.names(topic="marketing") == ["ann", "cem"]
    assert world.names(topic="birthday") == ["dee"]
    assert world.names(topic="transactional") == ["ann", "bob", "cem", "dee"]


def test_every_filter_at_once_and_search(world: World) -> None:
    customer_tags.tag_customer(world.customer("cem"), "vip", BY)
    points(world.cem, 30)
    event(world.customer("cem"), RECENT)
    consent(world.customer("cem"), "marketing", "given", OLD)
    everything = {
        "campaign": str(world.spring.id),
        "status": "confirmed",
        "tag": "vip",
        "channel": "qr",
        "generation": "2",
        "points_min": "30",
        "active_after": "2026-06-01",
        "topic": "marketing",
    }
    assert world.names(**everything) == ["cem"]
    assert world.names(**{**everything, "points_min": "31"}) == []
    address = world.customer("cem").email
    part = address[: address.index("@") + 1]  # a part of the address that only cem's holds
    assert world.names(q=part, channel="qr") == ["cem"]


def test_another_workspace_never_shows_through_any_filter(world: World) -> None:
    other = db.session.get(Workspace, world.other.id)
    assert other is not None
    for params in (
        {},
        {"tag": "vip"},
        {"points_min": "1"},
        {"topic": "marketing"},
        {"channel": "email", "status": "confirmed", "generation": "0"},
        {"active_after": "2026-01-01"},
    ):
        assert "stranger" not in world.names(**params)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"status": "won"}, {"status"}),
        ({"generation": "-1"}, {"generation"}),
        ({"points_min": "ten"}, {"points_min"}),
        ({"active_after": "10/06/2026"}, {"active_after"}),
        ({"active_before": "2026-02-30"}, {"active_before"}),
        ({"topic": "news"}, {"topic"}),
        ({"tag": "=cmd"}, {"tag"}),
        ({"campaign": "x", "channel": "c" * 33}, {"campaign", "channel"}),
    ],
)
def test_a_bad_parameter_is_named(params: dict[str, str], fields: set[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_filter(params)
    assert set(refused.value.errors) == fields


def test_a_filter_round_trips_through_its_parameters() -> None:
    found = CustomerFilter(campaign=3, tag="vip", points_min=0, active_after=date(2026, 6, 1))
    assert found.to_params() == {
        "campaign": "3",
        "tag": "vip",
        "points_min": "0",
        "active_after": "2026-06-01",
    }
    assert parse_filter(found.to_params()) == found


def test_a_page_reads_its_rows_in_a_fixed_number_of_queries(world: World, factory: Factory) -> None:
    for _ in range(12):
        person = factory.participation(world.spring, status="confirmed").customer_id
        customer_tags.tag_customer(db.session.get(Customer, person), "vip", BY)
    found = segments.checked_filter(world.workspace.id, {"tag": "vip"})
    db.session.expunge_all()
    with statements() as sent:
        page = segments.customer_page(world.workspace.id, found, per_page=5)
        assert [row.tags for row in page.rows] == [["vip"]] * 5
        assert all(row.campaigns == 1 for row in page.rows)
        assert all(row.customer.email for row in page.rows)
    assert page.total == 12 and len(sent) == 4  # count, rows, campaigns, tags


def test_saved_segments_are_named_once_per_workspace_and_scoped(world: World) -> None:
    saved = segments.save_segment(world.workspace.id, " Fans ", {"tag": "VIP", "page": "2"}, BY)
    assert (saved.name, saved.filters) == ("Fans", {"tag": "vip"})
    with pytest.raises(ValidationFailed) as taken:
        segments.save_segment(world.workspace.id, "Fans", {}, BY)
    assert set(taken.value.errors) == {"name"}
    segments.save_segment(world.other.id, "Fans", {}, BY)  # another workspace may
    with pytest.raises(NotFound):
        segments.find_segment(world.other.id, saved.id)
    changed = segments.change_segment(saved, "Spring fans", {"campaign": world.spring.id}, BY)
    assert changed.filters == {"campaign": str(world.spring.id)}
    assert [s.name for s in segments.list_segments(world.workspace.id)] == ["Spring fans"]
    segments.delete_segment(changed, BY)
    assert segments.list_segments(world.workspace.id) == []
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.workspace_id == world.workspace.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [a for a in actions if a.startswith("segment.")] == [
        "segment.created",
        "segment.changed",
        "segment.deleted",
    ]


def test_a_segment_whose_campaign_is_gone_matches_nobody(world: World, factory: Factory) -> None:
    gone = factory.campaign(world.workspace)
    saved = segments.save_segment(world.workspace.id, "Gone", {"campaign": gone.id}, BY)
    db.session.delete(gone)
    db.session.commit()
    found = segments.segment_filter(saved)
    assert segments.customer_page(world.workspace.id, found).total == 0


def test_tags_are_audited_and_validated(world: World) -> None:
    ann = world.customer("ann")
    assert customer_tags.tag_customer(ann, "Club 1000", BY) == ("club 1000", True)
    assert customer_tags.tag_customer(ann, "CLUB  1000", BY) == ("club 1000", False)
    assert customer_tags.untag_customer(ann, "Club 1000", BY) == ("club 1000", True)
    assert customer_tags.untag_customer(ann, "club 1000", BY) == ("club 1000", False)
    for bad in ("", "=HYPERLINK()", "a,b", "x" * 65, "-x"):
        with pytest.raises(ValidationFailed):
            customer_tags.tag_customer(ann, bad, BY)
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.subject, AuditEntry.data)
        .where(AuditEntry.action.like("customer.%tagged"))
        .where(AuditEntry.workspace_id == world.workspace.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("customer.tagged", f"customer:{ann.id}", {"tag": "club 1000"}),
        ("customer.untagged", f"customer:{ann.id}", {"tag": "club 1000"}),
    ]


def test_the_export_is_neutralised_audited_and_read_in_batches(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = world.customer("ann")
    ann.name = '=HYPERLINK("http://x")'
    db.session.commit()
    customer_tags.tag_customer(ann, "vip", BY)
    customer_tags.tag_customer(ann, "buyer", BY)
    monkeypatch.setattr(segment_exports, "BATCH", 2)
    found = segments.checked_filter(world.workspace.id, {"campaign": str(world.spring.id)})
    segment_exports.start_export(world.workspace.id, found, BY)
    text = "".join(segment_exports.customer_lines(world.workspace.id, found))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["customer_id"]) for r in rows] == sorted(
        c.id for name, c in world.people.items() if name != "dee"
    )
    first = rows[0]
    assert first["name"] == '\'=HYPERLINK("http://x")' and first["tags"] == "buyer, vip"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.customers")
    ).one()
    assert (entry.workspace_id, entry.subject) == (world.workspace.id, "customers")
    assert entry.data == {"filters": {"campaign": str(world.spring.id)}}
