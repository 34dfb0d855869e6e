"""Reward rules, reported events, the rewards they pay and a campaign's spread, asked of the
services the API calls. The HTTP shape of the same routes (201/200, problems, the JSON of
rules, events, ledger entries and metrics) is in tests/web/test_api_rewards_events.py."""

from __future__ import annotations

import csv
import io
from typing import Any

import networkx as nx
import pytest
from sqlalchemy import func, select

from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Event,
    LedgerEntry,
    Participation,
    RewardRule,
    Workspace,
)
from referral.services.campaigns import create_campaign, update_campaign
from referral.services.confirmation import confirm_participation
from referral.services.events import report_event
from referral.services.ids import parse_id
from referral.services.joining import JoinRequest, join_campaign
from referral.services.participant_stats import participant_of, rewards_page, standing
from referral.services.rules import add_rule, rule_page
from referral.services.spread import campaign_export, campaign_metrics
from tests.factories import Factory


def count(model: type, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def join(
    campaign: Campaign, email: str, referrer: Participation | None = None, **fields: Any
) -> Participation:
    """A participant joined as the API joins one (channel ``api`` unless given)."""
    code = referrer.referral_code if referrer else None
    fields.setdefault("channel", "api")
    request = JoinRequest(email=email, referral_code=code, **fields)
    return join_campaign(campaign, request).participation


def chain(campaign: Campaign, length: int) -> list[Participation]:
    """``length`` confirmed participants, each referred by the one before."""
    people: list[Participation] = []
    for n in range(length):
        people.append(
            join(campaign, f"p{n}@example.com", people[-1] if people else None, confirmed=True)
        )
    return people


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", reward_depth=2)


def rule(campaign: Campaign, **fields: Any) -> RewardRule:
    return add_rule(campaign, fields)


def refusals() -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).where(AuditEntry.action == "reward_depth.refused")
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


# --- reward rules ----------------------------------------------------------------------------


def test_a_rule_is_stored_with_an_upper_case_currency_and_listed_oldest_first(
    live: Campaign,
) -> None:
    cash = rule(live, event="purchase", level=1, reward="cash", amount=500, currency="eur")
    assert (cash.event, cash.milestone, cash.level) == ("purchase", None, 1)
    assert (cash.reward, cash.amount, cash.currency, cash.active) == ("cash", 500, "EUR", True)
    milestone = rule(live, milestone=3, level=1, reward="points", amount=50)
    listed = rule_page(live, None, None)
    assert [r.id for r in listed.items] == [cash.id, milestone.id]
    assert listed.next_cursor is None


# (campaign reward_depth, rule) refused on "level". Every other way past the cap is decided by
# the same rule: tests/unit/test_depth.py (REFUSED_LEVELS).
DEPTH_REFUSALS = [
    (1, {"event": "purchase", "level": 2, "reward": "points", "amount": 5}),  # deeper than campaign
    (2, {"event": "signup_confirmed", "level": 2, "reward": "points", "amount": 5}),  # recruiting
]


@pytest.mark.parametrize(("depth", "fields"), DEPTH_REFUSALS)
def test_a_rule_beyond_the_depth_cap_is_refused_on_level_with_the_reason(
    factory: Factory, depth: int, fields: dict[str, Any]
) -> None:
    campaign = factory.campaign(status="live", reward_depth=depth)
    with pytest.raises(ValidationFailed) as raised:
        add_rule(campaign, fields)
    assert set(raised.value.errors) == {"level"}
    assert str(raised.value.errors["level"][0])
    assert count(RewardRule) == 0


def test_the_deepest_allowed_level_is_accepted(live: Campaign) -> None:
    assert rule(live, event="purchase", level=2, reward="points", amount=1).level == 2


# The rules refused past the API's schema (the schema's own: tests/unit/test_api_schemas.py).
BAD_RULES = [
    ({"level": 0, "reward": "points", "amount": 5}, {"event"}),
    ({"event": "purchase", "milestone": 3, "level": 0, "reward": "points", "amount": 5}, {"event"}),
    ({"event": "purchase", "level": 0, "reward": "cash", "amount": 5}, {"currency"}),
]


@pytest.mark.parametrize(("fields", "bad"), BAD_RULES)
def test_a_bad_rule_is_refused_naming_each_bad_field(
    live: Campaign, fields: dict[str, Any], bad: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        add_rule(live, fields)
    assert set(raised.value.errors) == bad
    assert count(RewardRule) == 0


def test_a_rule_deeper_than_the_ceiling_is_refused_and_audited(live: Campaign) -> None:
    with pytest.raises(ValidationFailed) as raised:
        add_rule(
            live,
            {"event": "purchase", "level": 3, "reward": "points", "amount": 5},
            actor="api-key:1",
            ip_hash="hashed",
        )
    assert set(raised.value.errors) == {"level"}
    (entry,) = refusals()
    assert (entry.outcome, entry.workspace_id, entry.subject) == (
        "denied",
        live.workspace_id,
        f"campaign:{live.id}",
    )
    assert (entry.actor, entry.ip_hash) == ("api-key:1", "hashed")
    assert entry.data["field"] == "level"
    assert (entry.data["requested"], entry.data["allowed"], entry.data["ceiling"]) == (3, 2, 2)
    assert count(RewardRule) == 0


def test_a_rule_within_the_cap_leaves_no_refusal(live: Campaign) -> None:
    rule(live, event="purchase", level=2, reward="points", amount=5)
    with pytest.raises(ValidationFailed):
        add_rule(live, {"event": "purchase", "level": -1, "reward": "points", "amount": 5})
    assert refusals() == []


def test_a_campaign_depth_above_the_ceiling_is_refused_and_audited(
    factory: Factory, live: Campaign
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create_campaign(
            factory.workspace(), {"name": "Deep", "kind": "referral", "reward_depth": 3}
        )
    assert set(raised.value.errors) == {"reward_depth"}
    with pytest.raises(ValidationFailed) as raised:
        update_campaign(live, {"reward_depth": 7})
    assert set(raised.value.errors) == {"reward_depth"}
    created, patched = refusals()
    assert (created.subject, patched.subject) == ("campaign:new", f"campaign:{live.id}")
    assert {e.outcome for e in (created, patched)} == {"denied"}
    assert [(e.data["field"], e.data["requested"], e.data["allowed"]) for e in refusals()] == [
        ("reward_depth", 3, 2),
        ("reward_depth", 7, 2),
    ]
    db.session.expire_all()
    assert live.reward_depth == 2


# --- events ----------------------------------------------------------------------------------


def test_a_purchase_pays_each_level_up_the_chain_within_the_depth_cap(live: Campaign) -> None:
    rule(live, event="purchase", level=0, reward="points", amount=10)
    rule(live, event="purchase", level=1, reward="points", amount=100)
    rule(live, event="purchase", level=2, reward="points", amount=1000)
    first, second, third, buyer = chain(live, 4)
    reported = report_event(
        live, buyer, "purchase", amount=2500, currency="eur", external_id="order-1"
    )
    assert reported.created
    event = reported.event
    assert (event.kind, event.amount, event.currency, event.external_id) == (
        "purchase",
        2500,
        "EUR",
        "order-1",
    )
    paid = {(e.participation_id, e.level, e.amount) for e in reported.rewards}
    assert paid == {(buyer.id, 0, 10), (third.id, 1, 100), (second.id, 2, 1000)}
    assert {(e.source_event_id, e.status) for e in reported.rewards} == {(event.id, "approved")}
    assert first.id not in {e.participation_id for e in reported.rewards}  # depth cap


def test_the_same_external_id_twice_pays_once_and_returns_the_first_event(
    live: Campaign,
) -> None:
    rule(live, event="purchase", level=1, reward="points", amount=100)
    advocate, buyer = chain(live, 2)
    first = report_event(live, buyer, "purchase", external_id="order-7")
    again = report_event(live, buyer, "purchase", external_id="order-7", amount=1)
    assert (first.created, again.created) == (True, False)
    assert again.event.id == first.event.id and again.event.amount is None
    assert [e.id for e in again.rewards] == [e.id for e in first.rewards]
    assert count(LedgerEntry, LedgerEntry.participation_id == advocate.id) == 1


def test_an_event_without_external_id_is_recorded_each_time(live: Campaign) -> None:
    (buyer,) = chain(live, 1)
    for _ in range(2):
        assert report_event(live, buyer, "purchase").created
    assert count(Event, Event.kind == "purchase") == 2


@pytest.mark.parametrize("whose", ["another campaign's", "nobody's", "not an id"])
def test_an_event_for_someone_not_in_the_campaign_is_refused_on_participant_id(
    factory: Factory, live: Campaign, whose: str
) -> None:
    workspace = db.session.get(Workspace, live.workspace_id)
    stranger = join(factory.campaign(workspace, status="live"), "s@example.com")
    ident = {"another campaign's": str(stranger.id), "nobody's": "999999", "not an id": "abc"}
    with pytest.raises(ValidationFailed) as raised:
        participant_of(live, parse_id(ident[whose]))
    assert set(raised.value.errors) == {"participant_id"}
    assert count(Event, Event.kind == "purchase") == 0


def test_a_purchase_by_an_unconfirmed_buyer_is_refused_and_pays_no_one(live: Campaign) -> None:
    rule(live, event="purchase", level=0, reward="points", amount=10)
    rule(live, event="purchase", level=1, reward="points", amount=100)
    (advocate,) = chain(live, 1)
    buyer = join(live, "buyer@example.com", advocate)
    assert buyer.status == "pending"
    with pytest.raises(Conflict, match="not confirmed"):
        report_event(live, buyer, "purchase", external_id="order-1")
    assert count(Event, Event.kind == "purchase") == 0
    assert count(LedgerEntry) == 0
    assert standing(advocate).points == 0


def test_after_confirmation_the_refused_purchase_pays_once(live: Campaign) -> None:
    rule(live, event="purchase", level=1, reward="points", amount=100)
    (advocate,) = chain(live, 1)
    buyer = join(live, "buyer@example.com", advocate)
    with pytest.raises(Conflict):
        report_event(live, buyer, "purchase", external_id="order-1")
    confirm_participation(buyer)
    first = report_event(live, buyer, "purchase", external_id="order-1")
    again = report_event(live, buyer, "purchase", external_id="order-1")
    assert (first.created, again.created) == (True, False)
    assert again.event.id == first.event.id
    assert [(e.participation_id, e.amount) for e in first.rewards] == [(advocate.id, 100)]
    assert count(LedgerEntry) == 1
    assert standing(advocate).points == 100


def test_a_referrer_who_never_confirmed_receives_nothing_for_a_purchase(live: Campaign) -> None:
    rule(live, event="purchase", level=1, reward="points", amount=100)
    advocate = join(live, "advocate@example.com")
    buyer = join(live, "buyer@example.com", advocate, confirmed=True)
    reported = report_event(live, buyer, "purchase")
    assert reported.rewards == []
    assert count(Event, Event.kind == "purchase") == 1  # the buyer confirmed: it is recorded
    assert count(LedgerEntry) == 0


# --- rewards ---------------------------------------------------------------------------------


def test_rewards_list_the_ledger_entries_and_balances_over_every_page(live: Campaign) -> None:
    rule(live, event="signup_confirmed", level=1, reward="points", amount=100)
    rule(live, event="purchase", level=1, reward="cash", amount=250, currency="EUR")
    advocate, buyer = chain(live, 2)
    report_event(live, buyer, "purchase", external_id="o-1")
    body = rewards_page(advocate, None, None)
    assert body.participant_id == advocate.id
    assert [(e.reward, e.amount, e.level) for e in body.items] == [
        ("points", 100, 1),
        ("cash", 250, 1),
    ]
    assert body.balances == {
        "points": {"approved": 100, "pending": 0},
        "cash": {"approved": 250, "pending": 0},
    }
    assert body.points == 100 and body.next_cursor is None
    first = rewards_page(advocate, 1, None)
    assert len(first.items) == 1 and first.next_cursor
    assert first.balances == body.balances  # balances are over every entry


def test_held_rewards_count_as_pending(factory: Factory) -> None:
    campaign = factory.campaign(status="live", hold_days=14)
    rule(campaign, event="signup_confirmed", level=0, reward="points", amount=7)
    advocate = join(campaign, "advocate@example.com", confirmed=True)
    joined = join(campaign, "a@example.com", advocate, confirmed=True)
    body = rewards_page(joined, None, None)
    assert body.balances == {"points": {"approved": 0, "pending": 7}}
    assert [e.status for e in body.items] == ["pending"]


def test_rewards_of_a_participant_without_any_are_empty(live: Campaign) -> None:
    body = rewards_page(join(live, "a@example.com"), None, None)
    assert (body.items, body.balances, body.points) == ([], {}, 0)


# --- spread ----------------------------------------------------------------------------------


@pytest.fixture
def spread_campaign(live: Campaign) -> Campaign:
    """A root with two friends, one of whom brought a third; and a loner."""
    root = join(live, "root@example.com", confirmed=True)
    a = join(live, "a@example.com", root, confirmed=True)
    join(live, "b@example.com", root, channel="qr")
    join(live, "c@example.com", a, confirmed=True)
    join(live, "loner@example.com")
    return live


def test_spread_metrics_count_the_tree(spread_campaign: Campaign) -> None:
    body = campaign_metrics(spread_campaign)
    assert (body["size"], body["confirmed"], body["roots"], body["max_depth"]) == (5, 3, 2, 2)
    assert body["breadth_by_depth"] == [2, 2, 1]
    assert body["referred_share"] == 0.6
    assert body["k_factor"] == round(2 / 3, 6)
    assert body["channels"] == {"api": 2, "direct": 2, "qr": 1}
    top = body["top_advocates"]["by_direct"][0]
    assert top["direct"] == 2 and top["subtree"] == 4


@pytest.mark.parametrize(("fmt", "read"), [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_spread_as_graphml_and_gexf_parses_back_into_the_graph(
    spread_campaign: Campaign, fmt: str, read: Any
) -> None:
    content, mimetype, extension = campaign_export(spread_campaign, fmt)
    assert (mimetype, extension) == (f"application/{fmt}+xml", fmt)
    graph = read(io.BytesIO(content))
    assert graph.number_of_nodes() == 5 and graph.number_of_edges() == 3
    assert sorted(d for _, d in graph.out_degree()) == [0, 0, 0, 1, 2]


def test_spread_as_csv_has_one_row_per_participant(spread_campaign: Campaign) -> None:
    content, mimetype, _ = campaign_export(spread_campaign, "csv")
    assert mimetype.split(";")[0] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(rows) == 5
    assert sorted(int(r["depth"]) for r in rows) == [0, 0, 1, 1, 2]
    assert sum(1 for r in rows if r["referrer_id"]) == 3


def test_the_spread_of_an_empty_campaign_is_all_zero(live: Campaign) -> None:
    body = campaign_metrics(live)
    assert (body["size"], body["k_factor"], body["breadth_by_depth"]) == (0, 0.0, [])
