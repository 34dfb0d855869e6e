"""Participants in bulk through the JSON API: per-item outcomes in order, a re-sent batch
adds nobody, replays with an Idempotency-Key, and a body over the limit (docs/API.md)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from referral.models import ConsentRecord, OutboxMessage, Participation
from tests.web.conftest import Api, assert_problem, count, race

BASIS = "Customers who bought from us, existing contract"


@pytest.fixture
def live(api: Api) -> dict[str, Any]:
    return api.campaign()


def batch(live: dict[str, Any]) -> str:
    return f"/campaigns/{live['id']}/participants/batch"


def test_each_item_gets_its_outcome_in_the_order_sent(api: Api, live: dict[str, Any]) -> None:
    items = [
        {"email": "ann@example.com", "name": "Ann", "locale": "de"},
        {"email": "not an address"},
        {"email": "ANN@example.com"},
        {"email": "bob@example.org"},
    ]
    body = api.ok("POST", batch(live), json={"items": items, "basis": BASIS})
    assert [item["result"] for item in body["items"]] == ["created", "error", "error", "created"]
    assert [item["index"] for item in body["items"]] == [0, 1, 2, 3]
    assert body["counts"] == {"created": 2, "existing": 0, "error": 2}
    assert "email" in body["items"][1]["errors"] and body["items"][1]["participant_id"] is None
    assert body["items"][2]["errors"] == {"email": ["The same person is on line 0 already."]}
    ann = api.ok("GET", f"/participants/{body['items'][0]['participant_id']}")
    assert (ann["email"], ann["status"]) == ("ann@example.com", "pending")
    assert count(OutboxMessage) == 2
    assert count(ConsentRecord) == 2


def test_the_same_batch_again_adds_nobody(api: Api, live: dict[str, Any]) -> None:
    payload = {"items": [{"email": "ann@example.com"}], "basis": BASIS, "confirmed": True}
    first = api.ok("POST", batch(live), json=payload)
    again = api.ok("POST", batch(live), json=payload)
    assert again["items"][0]["result"] == "existing"
    assert again["items"][0]["participant_id"] == first["items"][0]["participant_id"]
    assert again["items"][0]["status"] == "confirmed"
    assert count(Participation) == 1 and count(OutboxMessage) == 0


def test_a_replay_with_the_idempotency_key_answers_the_first_answer(
    api: Api, live: dict[str, Any]
) -> None:
    payload = {"items": [{"email": "ann@example.com"}], "basis": BASIS}
    first = api.post(batch(live), json=payload, key="batch-1")
    replay = api.post(batch(live), json=payload, key="batch-1")
    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert replay.get_json()["items"][0]["result"] == "created"


def test_more_than_a_thousand_items_answer_422_and_add_nobody(
    api: Api, live: dict[str, Any]
) -> None:
    items = [{"email": f"p{n}@example.com"} for n in range(1001)]
    response = api.post(batch(live), json={"items": items, "basis": BASIS})
    assert_problem(response, 422)
    assert "items" in response.get_json()["errors"]
    assert count(Participation) == 0


def test_a_basis_is_required_and_a_closed_campaign_answers_409(
    api: Api, live: dict[str, Any]
) -> None:
    response = api.post(batch(live), json={"items": [{"email": "a@example.com"}], "basis": " "})
    assert_problem(response, 422)
    assert "basis" in response.get_json()["errors"]
    api.ok("POST", f"/campaigns/{live['id']}/close")
    closed = api.post(batch(live), json={"items": [{"email": "a@example.com"}], "basis": BASIS})
    assert_problem(closed, 409)
    assert count(Participation) == 0


def test_another_workspaces_campaign_answers_404(
    api: Api, other_api: Api, live: dict[str, Any]
) -> None:
    response = other_api.post(
        batch(live), json={"items": [{"email": "a@example.com"}], "basis": BASIS}
    )
    assert_problem(response, 404)
    assert count(Participation) == 0


def test_the_same_batch_sent_five_times_at_once_adds_each_person_once(
    app: Flask, api: Api, live: dict[str, Any]
) -> None:
    """No Idempotency-Key: the unique keys of customers and participations decide."""
    items = [{"email": f"p{n}@example.com"} for n in range(40)]

    def send() -> dict[str, int]:
        response = api.post(batch(live), json={"items": items, "basis": BASIS})
        assert response.status_code == 200, response.get_data(as_text=True)
        counts: dict[str, int] = response.get_json()["counts"]
        return counts

    results, errors = race(app, 5, send)
    assert errors == []
    assert sum(r["created"] for r in results) == 40
    assert all(r["created"] + r["existing"] == 40 for r in results)
    assert count(Participation) == 40
    assert count(ConsentRecord) == 40 and count(OutboxMessage) == 40
