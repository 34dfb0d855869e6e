"""Reward rules, events, rewards and spread through the JSON API (docs/API.md)."""

from __future__ import annotations

import io
from typing import Any

import networkx as nx
import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import AuditEntry, Event, LedgerEntry, RewardRule, Workspace
from tests.web.conftest import Api, assert_iso_with_offset, assert_problem, count, race

LEDGER_FIELDS = {
    "id", "participant_id", "source_event_id", "rule_id", "level", "reward", "amount", "status",
    "created_at",
}  # fmt: skip
SPREAD_FIELDS = {
    "size", "confirmed", "roots", "max_depth", "breadth_by_depth", "k_factor", "k_by_generation",
    "viral_k", "k_mature_participants", "structural_virality", "structural_virality_largest",
    "referred_share", "median_time_to_first_referral_s", "top_advocates", "channels",
}  # fmt: skip


@pytest.fixture
def live(api: Api) -> dict[str, Any]:
    return api.campaign(reward_depth=2)


def chain(api: Api, campaign_id: str, length: int) -> list[dict[str, Any]]:
    """``length`` confirmed participants, each referred by the one before."""
    people: list[dict[str, Any]] = []
    for n in range(length):
        code = {"referral_code": people[-1]["referral_code"]} if people else {}
        people.append(api.join(campaign_id, f"p{n}@example.com", confirmed=True, **code))
    return people


# --- reward rules -------------------------------------------------------------------------------


def test_a_rule_is_created_with_201_and_listed(api: Api, live: dict[str, Any]) -> None:
    rule = api.rule(
        live["id"], event="purchase", level=1, reward="cash", amount=500, currency="eur"
    )
    assert rule["campaign_id"] == live["id"] and isinstance(rule["id"], str)
    assert (rule["event"], rule["milestone"], rule["level"]) == ("purchase", None, 1)
    assert (rule["reward"], rule["amount"], rule["currency"], rule["active"]) == (
        "cash",
        500,
        "EUR",
        True,
    )
    assert_iso_with_offset(rule["created_at"])
    milestone = api.rule(live["id"], milestone=3, level=1, reward="points", amount=50)
    listed = api.ok("GET", f"/campaigns/{live['id']}/reward-rules")
    assert [r["id"] for r in listed["items"]] == [rule["id"], milestone["id"]]
    assert listed["next_cursor"] is None


# The rules the schema refuses by itself: tests/unit/test_api_schemas.py (BAD_RULES); those
# decided past it, and the depth cap: tests/services/test_rules_events_rewards.py (what decides
# the level: tests/unit/test_depth.py). Here one of each.
BAD_RULES = [
    ({}, {"level", "reward", "amount"}),
    ({"event": "purchase", "level": 0, "reward": "cash", "amount": 5}, {"currency"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_RULES)
def test_a_bad_rule_answers_422_naming_each_bad_field(
    api: Api, live: dict[str, Any], body: dict[str, Any], fields: set[str]
) -> None:
    problem = assert_problem(api.post(f"/campaigns/{live['id']}/reward-rules", json=body), 422)
    assert set(problem["errors"]) == fields
    assert count(RewardRule) == 0


def test_a_malformed_rule_body_answers_400(api: Api, live: dict[str, Any]) -> None:
    response = api.post(
        f"/campaigns/{live['id']}/reward-rules",
        data="{'level': 1}",
        content_type="application/json",
    )
    assert_problem(response, 400)


# --- events -------------------------------------------------------------------------------------


def test_a_purchase_answers_201_with_the_event_and_the_rewards_it_paid(
    api: Api, live: dict[str, Any]
) -> None:
    api.rule(live["id"], event="purchase", level=0, reward="points", amount=10)
    api.rule(live["id"], event="purchase", level=1, reward="points", amount=100)
    api.rule(live["id"], event="purchase", level=2, reward="points", amount=1000)
    first, second, third, buyer = chain(api, live["id"], 4)
    response = api.post(
        f"/campaigns/{live['id']}/events",
        json={
            "participant_id": buyer["id"],
            "kind": "purchase",
            "amount": 2500,
            "currency": "eur",
            "external_id": "order-1",
            "occurred_at": "2026-01-02T03:04:05+01:00",
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    event = body["event"]
    assert (event["kind"], event["amount"], event["currency"], event["external_id"]) == (
        "purchase",
        2500,
        "EUR",
        "order-1",
    )
    assert event["participant_id"] == buyer["id"] and event["campaign_id"] == live["id"]
    assert assert_iso_with_offset(event["occurred_at"]).isoformat() == "2026-01-02T02:04:05+00:00"
    paid = {(r["participant_id"], r["level"], r["amount"]) for r in body["rewards"]}
    assert paid == {(buyer["id"], 0, 10), (third["id"], 1, 100), (second["id"], 2, 1000)}
    for entry in body["rewards"]:
        assert LEDGER_FIELDS <= set(entry)
        assert entry["source_event_id"] == event["id"] and entry["status"] == "approved"
    assert first["id"] not in {r["participant_id"] for r in body["rewards"]}  # depth cap


def test_the_same_external_id_twice_pays_once_and_answers_the_first_event(
    api: Api, live: dict[str, Any]
) -> None:
    api.rule(live["id"], event="purchase", level=1, reward="points", amount=100)
    advocate, buyer = chain(api, live["id"], 2)
    body = {"participant_id": buyer["id"], "kind": "purchase", "external_id": "order-7"}
    first = api.post(f"/campaigns/{live['id']}/events", json=body)
    again = api.post(f"/campaigns/{live['id']}/events", json={**body, "amount": 1})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count(LedgerEntry, LedgerEntry.participation_id == int(advocate["id"])) == 1


# Every bad event the schema refuses: tests/unit/test_api_schemas.py (BAD_EVENTS).
BAD_EVENTS = [
    ({}, {"participant_id", "kind"}),
    ({"participant_id": "1", "kind": "purchase", "amount": 1.5}, {"amount"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_EVENTS)
def test_a_bad_event_answers_422_naming_each_bad_field(
    api: Api, live: dict[str, Any], body: dict[str, Any], fields: set[str]
) -> None:
    problem = assert_problem(api.post(f"/campaigns/{live['id']}/events", json=body), 422)
    assert set(problem["errors"]) == fields


def test_a_malformed_event_body_answers_400(api: Api, live: dict[str, Any]) -> None:
    response = api.post(f"/campaigns/{live['id']}/events", data="kind=purchase")
    assert_problem(response, 400)


def test_twenty_concurrent_reports_of_one_purchase_pay_each_beneficiary_and_level_once(
    app: Flask, api: Api, live: dict[str, Any]
) -> None:
    api.rule(live["id"], event="purchase", level=0, reward="points", amount=10)
    api.rule(live["id"], event="purchase", level=1, reward="points", amount=100)
    api.rule(live["id"], event="purchase", level=2, reward="points", amount=1000)
    _, second, third, buyer = chain(api, live["id"], 4)
    body = {"participant_id": buyer["id"], "kind": "purchase", "external_id": "race-1"}

    def report() -> tuple[int, Any]:
        response = api.post(f"/campaigns/{live['id']}/events", json=body)
        return response.status_code, response.get_json()

    results, errors = race(app, 20, report)
    assert errors == []
    assert sorted(status for status, _ in results) == [200] * 19 + [201]
    assert len({str(answer) for _, answer in results}) == 1  # every answer is the first event
    assert count(Event, Event.kind == "purchase") == 1
    db.session.rollback()
    paid = db.session.execute(
        select(LedgerEntry.participation_id, LedgerEntry.level, func.count()).group_by(
            LedgerEntry.participation_id, LedgerEntry.level
        )
    ).all()
    assert {(str(p), level, n) for p, level, n in paid} == {
        (buyer["id"], 0, 1),
        (third["id"], 1, 1),
        (second["id"], 2, 1),
    }


# --- double opt-in ------------------------------------------------------------------------------

NOT_CONFIRMED = (
    "This participant has not confirmed their e-mail address yet; rewards flow only after "
    "double opt-in."
)


def test_a_purchase_by_an_unconfirmed_buyer_answers_409_and_pays_no_one(
    api: Api, live: dict[str, Any]
) -> None:
    api.rule(live["id"], event="purchase", level=0, reward="points", amount=10)
    api.rule(live["id"], event="purchase", level=1, reward="points", amount=100)
    (advocate,) = chain(api, live["id"], 1)
    buyer = api.join(live["id"], "buyer@example.com", referral_code=advocate["referral_code"])
    assert buyer["status"] == "pending"
    body = {"participant_id": buyer["id"], "kind": "purchase", "external_id": "order-1"}
    problem = assert_problem(api.post(f"/campaigns/{live['id']}/events", json=body), 409)
    assert problem["type"].endswith("/problems/not-confirmed")
    assert problem["detail"] == NOT_CONFIRMED
    assert count(Event, Event.kind == "purchase") == 0
    assert count(LedgerEntry) == 0
    assert api.ok("GET", f"/participants/{advocate['id']}")["points"] == 0


# --- refused depth is audited -------------------------------------------------------------------


def refusals() -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "reward_depth.refused")
            .order_by(AuditEntry.id)
        )
    )


def test_a_rule_deeper_than_the_ceiling_is_refused_and_audited(
    api: Api, live: dict[str, Any], workspace: Workspace
) -> None:
    rule = {"event": "purchase", "level": 3, "reward": "points", "amount": 5}
    problem = assert_problem(api.post(f"/campaigns/{live['id']}/reward-rules", json=rule), 422)
    assert set(problem["errors"]) == {"level"}
    (entry,) = refusals()
    assert (entry.outcome, entry.workspace_id, entry.subject) == (
        "denied",
        workspace.id,
        f"campaign:{live['id']}",
    )
    assert entry.actor.startswith("api-key:") and entry.ip_hash
    assert entry.data["field"] == "level"
    assert (entry.data["requested"], entry.data["allowed"], entry.data["ceiling"]) == (3, 2, 2)
    assert count(RewardRule) == 0


# --- rewards ------------------------------------------------------------------------------------


def test_rewards_list_the_ledger_entries_and_the_balances(api: Api, live: dict[str, Any]) -> None:
    api.rule(live["id"], event="signup_confirmed", level=1, reward="points", amount=100)
    api.rule(live["id"], event="purchase", level=1, reward="cash", amount=250, currency="EUR")
    advocate, buyer = chain(api, live["id"], 2)
    api.ok(
        "POST",
        f"/campaigns/{live['id']}/events",
        201,
        json={"participant_id": buyer["id"], "kind": "purchase", "external_id": "o-1"},
    )
    body = api.ok("GET", f"/participants/{advocate['id']}/rewards")
    assert body["participant_id"] == advocate["id"]
    assert [(e["reward"], e["amount"], e["level"]) for e in body["items"]] == [
        ("points", 100, 1),
        ("cash", 250, 1),
    ]
    assert all(LEDGER_FIELDS <= set(e) for e in body["items"])
    assert body["balances"] == {
        "points": {"approved": 100, "pending": 0},
        "cash": {"approved": 250, "pending": 0},
    }
    assert body["points"] == 100 and body["next_cursor"] is None
    first = api.ok("GET", f"/participants/{advocate['id']}/rewards", query_string={"limit": 1})
    assert len(first["items"]) == 1 and first["next_cursor"]
    assert first["balances"] == body["balances"]  # balances are over every entry


# --- spread -------------------------------------------------------------------------------------


@pytest.fixture
def spread_campaign(api: Api, live: dict[str, Any]) -> dict[str, Any]:
    """A root with two friends, one of whom brought a third; and a loner."""
    root = api.join(live["id"], "root@example.com", confirmed=True)
    a = api.join(live["id"], "a@example.com", referral_code=root["referral_code"], confirmed=True)
    api.join(live["id"], "b@example.com", referral_code=root["referral_code"], channel="qr")
    api.join(live["id"], "c@example.com", referral_code=a["referral_code"], confirmed=True)
    api.join(live["id"], "loner@example.com")
    return live


def test_spread_metrics_have_exactly_the_fields_of_the_contract(
    api: Api, spread_campaign: dict[str, Any]
) -> None:
    body = api.ok("GET", f"/campaigns/{spread_campaign['id']}/spread")
    assert set(body) == SPREAD_FIELDS  # the numbers: tests/services/test_rules_events_rewards.py
    assert (body["size"], body["k_factor"]) == (5, round(2 / 3, 6))
    assert isinstance(body["top_advocates"]["by_direct"][0]["id"], str)
    assert body == api.ok("GET", f"/campaigns/{spread_campaign['id']}/spread?format=json")


def test_spread_as_graphml_and_gexf_parses_back_into_the_graph(
    api: Api, spread_campaign: dict[str, Any]
) -> None:
    for fmt, read in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        response = api.get(
            f"/campaigns/{spread_campaign['id']}/spread", query_string={"format": fmt}
        )
        assert response.status_code == 200
        assert response.mimetype == f"application/{fmt}+xml"
        assert "attachment" in response.headers["Content-Disposition"]
        graph = read(io.BytesIO(response.data))
        assert graph.number_of_nodes() == 5 and graph.number_of_edges() == 3
        assert sorted(d for _, d in graph.out_degree()) == [0, 0, 0, 1, 2]


def test_an_unknown_spread_format_answers_422(api: Api, live: dict[str, Any]) -> None:
    response = api.get(f"/campaigns/{live['id']}/spread", query_string={"format": "xlsx"})
    assert set(assert_problem(response, 422)["errors"]) == {"format"}
