"""Idempotency-Key on every POST: a replay answers the first answer and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import (
    Campaign,
    Event,
    IdempotencyRecord,
    LedgerEntry,
    OutboxMessage,
    Participation,
    RewardRule,
    Workspace,
)
from referral.services import idempotency
from tests.web.conftest import Api, assert_problem, race


def snapshot() -> tuple[int, ...]:
    """Row counts of everything a POST may write (records of keys aside)."""
    db.session.rollback()  # a fresh snapshot: see what the requests committed
    models = (Campaign, RewardRule, Participation, Event, LedgerEntry, OutboxMessage)
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0 for model in models
    )


def _setup(api: Api) -> dict[str, str]:
    """A live campaign with a rule, an advocate, a pending friend and a confirmed one (who
    may buy: rewards flow only after double opt-in); a draft campaign."""
    live = api.campaign()
    api.rule(live["id"], event="purchase", level=1, reward="points", amount=100)
    advocate = api.join(live["id"], "a@example.com", confirmed=True)
    code = advocate["referral_code"]
    friend = api.join(live["id"], "b@example.com", referral_code=code)
    buyer = api.join(live["id"], "c@example.com", referral_code=code, confirmed=True)
    draft = api.ok("POST", "/campaigns", 201, json={"name": "Draft", "kind": "referral"})
    return {
        "live": live["id"],
        "friend": friend["id"],
        "buyer": buyer["id"],
        "draft": draft["id"],
    }


# Every POST route: path and body, given the ids made by ``_setup``.
POSTS: list[tuple[str, Callable[[dict[str, str]], tuple[str, Any]]]] = [
    ("create campaign", lambda ids: ("/campaigns", {"name": "New", "kind": "referral"})),
    ("publish", lambda ids: (f"/campaigns/{ids['draft']}/publish", None)),
    ("close", lambda ids: (f"/campaigns/{ids['live']}/close", None)),
    (
        "add rule",
        lambda ids: (
            f"/campaigns/{ids['live']}/reward-rules",
            {"event": "purchase", "level": 0, "reward": "points", "amount": 5},
        ),
    ),
    (
        "join",
        lambda ids: (f"/campaigns/{ids['live']}/participants", {"email": "new@example.com"}),
    ),
    ("confirm", lambda ids: (f"/participants/{ids['friend']}/confirm", None)),
    (
        "report event",
        lambda ids: (
            f"/campaigns/{ids['live']}/events",
            {"participant_id": ids["buyer"], "kind": "purchase", "amount": 100},
        ),
    ),
]


@pytest.mark.parametrize(("name", "route"), POSTS, ids=[name for name, _ in POSTS])
def test_invariant_3_pay_once_a_replayed_post_answers_the_first_answer_and_changes_nothing(
    api: Api, name: str, route: Callable[[dict[str, str]], tuple[str, Any]]
) -> None:
    path, body = route(_setup(api))
    first = api.post(path, json=body, key=f"key-{name}")
    assert first.status_code in (200, 201), first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    after_first = snapshot()
    for _ in range(2):
        again = api.post(path, json=body, key=f"key-{name}")
        assert again.status_code == first.status_code
        assert again.get_json() == first.get_json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers.get("Location") == first.headers.get("Location")
    assert snapshot() == after_first


def test_without_a_key_a_repeated_post_is_a_new_request(api: Api) -> None:
    body = {"name": "Twice", "kind": "referral"}
    first = api.ok("POST", "/campaigns", 201, json=body)
    second = api.ok("POST", "/campaigns", 201, json=body)
    assert first["id"] != second["id"]


# What makes two requests the same, keys per workspace, a key given back after a failure:
# tests/services/test_idempotency.py. Here: the API's answers.


def test_the_same_key_with_a_different_body_answers_409_and_changes_nothing(api: Api) -> None:
    api.ok("POST", "/campaigns", 201, json={"name": "One", "kind": "referral"}, key="k-1")
    before = snapshot()
    response = api.post("/campaigns", json={"name": "Two", "kind": "referral"}, key="k-1")
    problem = assert_problem(response, 409)
    assert "Idempotency-Key" in problem["detail"]
    assert snapshot() == before


def test_a_failed_request_leaves_its_key_free_for_a_corrected_retry(api: Api) -> None:
    refused = api.post("/campaigns", json={"name": "Bad", "kind": "party"}, key="k-retry")
    assert_problem(refused, 422)
    assert (
        api.post("/campaigns", json={"name": "Bad", "kind": "party"}, key="k-retry").status_code
        == 422
    )
    fixed = api.post("/campaigns", json={"name": "Good", "kind": "referral"}, key="k-retry")
    assert fixed.status_code == 201
    db.session.rollback()
    records = db.session.scalars(select(IdempotencyRecord)).all()
    assert [(r.key, r.status_code) for r in records] == [("k-retry", 201)]


def test_a_malformed_body_with_a_key_answers_400_and_keeps_no_record(api: Api) -> None:
    response = api.post("/campaigns", data="{", content_type="application/json", key="k-400")
    assert_problem(response, 400)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


# Every unusable key: tests/unit/test_idempotency_key.py.
@pytest.mark.parametrize("key", ["caf\u00e9"])
def test_an_unusable_key_answers_422_naming_the_header(api: Api, key: str) -> None:
    response = api.post("/campaigns", json={"name": "K", "kind": "referral"}, key=key)
    problem = assert_problem(response, 422)
    assert set(problem["errors"]) == {"Idempotency-Key"}
    assert snapshot()[0] == 0


def test_a_get_ignores_the_key(api: Api) -> None:
    assert api.get("/campaigns", key="k-get").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_twenty_concurrent_requests_with_one_key_do_the_work_once(app: Flask, api: Api) -> None:
    live = api.campaign()
    api.rule(live["id"], event="signup_confirmed", level=0, reward="points", amount=10)
    advocate = api.join(live["id"], "advocate@example.com", confirmed=True)
    body = {
        "email": "racer@example.com",
        "confirmed": True,
        "referral_code": advocate["referral_code"],
    }

    def join() -> tuple[int, Any]:
        response = api.post(f"/campaigns/{live['id']}/participants", json=body, key="race")
        return response.status_code, response.get_json()

    results, errors = race(app, 20, join)
    assert errors == []
    assert [status for status, _ in results] == [201] * 20  # the first answer, replayed
    assert len({str(answer) for _, answer in results}) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Participation)) == 2  # + advocate
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_a_repeat_of_a_request_still_in_progress_waits_then_gives_up_with_409(
    api: Api, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"name": "Slow", "kind": "referral"}
    request_hash = idempotency.fingerprint(
        "POST", "/api/v1/campaigns", b"", b'{"name": "Slow", "kind": "referral"}'
    )
    claimed = idempotency.claim(workspace.id, "k-slow", request_hash)  # as if a request ran now
    assert isinstance(claimed, int)
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    problem = assert_problem(api.post("/campaigns", json=body, key="k-slow"), 409)
    assert "in progress" in problem["detail"]
    idempotency.complete(claimed, 201, {"id": "1", "name": "Slow"}, {})
    replay = api.post("/campaigns", json=body, key="k-slow")
    assert replay.status_code == 201 and replay.get_json() == {"id": "1", "name": "Slow"}
