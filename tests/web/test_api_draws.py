"""Lotteries through the JSON API: official rules, frozen entries, the draw and its record.

The rules behind these routes are asked of the services in tests/services/test_draw_rules.py
and tests/services/test_lottery.py."""

from __future__ import annotations

import contextvars
import json
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.domain.campaigns import LOTTERY_RULE_FIELDS
from referral.domain.draws import Entry as DrawEntry
from referral.domain.draws import commitment, entries_digest, verify_record
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Draw,
    LotteryEntry,
    RewardRule,
)
from tests.factories import LOTTERY_RULES, Factory
from tests.web.conftest import PROBLEM, Api


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json()


def live_lottery(api: Api, **rules: Any) -> dict[str, Any]:
    lottery = api.create(name="Bike draw", kind="lottery", rules={**LOTTERY_RULES, **rules})
    published = api.post(f"/campaigns/{lottery['id']}/publish")
    assert published.status_code == 200, published.get_data(as_text=True)
    return published.get_json()


def join(api: Api, campaign_id: str, email: str, confirmed: bool = True, **kw: Any) -> Any:
    body = {"email": email, "confirmed": confirmed, **kw}
    response = api.post(f"/campaigns/{campaign_id}/participants", json=body)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


def closed_lottery(api: Api, people: int = 6) -> dict[str, Any]:
    lottery = live_lottery(api)
    for n in range(people):
        join(api, lottery["id"], f"person{n}@example.org")
    closed = api.post(f"/campaigns/{lottery['id']}/close")
    assert closed.status_code == 200, closed.get_data(as_text=True)
    return closed.get_json()


def test_publishing_a_lottery_without_rules_answers_422_naming_each_field(api: Api) -> None:
    lottery = api.create(kind="lottery", name="No rules yet")
    body = problem(api.post(f"/campaigns/{lottery['id']}/publish"), 422)
    assert set(body["errors"]) == {f"rules.{name}" for name in LOTTERY_RULE_FIELDS}
    assert "rules.alternates" in body["errors"]
    after = api.get(f"/campaigns/{lottery['id']}").get_json()
    assert after["status"] == "draft" and after["commitment"] is None


def test_publishing_commits_to_a_secret_seed(api: Api, app: Flask) -> None:
    lottery = live_lottery(api)
    assert len(lottery["commitment"]) == 64 and lottery["entries_digest"] is None
    assert "seed" not in json.dumps(lottery)
    from referral.models import Lottery

    state = db.session.query(Lottery).filter_by(campaign_id=int(lottery["id"])).one()
    assert commitment(state.seed) == lottery["commitment"]


def test_the_draw_via_the_api_verifies_against_the_published_record(api: Api) -> None:
    closed = closed_lottery(api)
    response = api.post(f"/campaigns/{closed['id']}/draws", json={"winners": 2, "alternates": 2})
    assert response.status_code == 201, response.get_data(as_text=True)
    record = response.get_json()
    assert verify_record(record).ok
    assert record["commitment"] == closed["commitment"]
    assert record["entries_digest"] == closed["entries_digest"]
    assert len(record["winners"]) == 2 and len(record["alternates"]) == 2
    entries = [DrawEntry(e["id"], e["weight"]) for e in record["entries"]]
    assert entries_digest(entries) == record["entries_digest"]
    again = api.get(f"/draws/{record['id']}").get_json()
    assert verify_record(again).ok and again["winners"] == record["winners"]


def test_a_draw_cannot_run_twice(api: Api) -> None:
    closed = closed_lottery(api, people=3)
    first = api.post(f"/campaigns/{closed['id']}/draws", json={"winners": 1})
    assert first.status_code == 201
    problem(api.post(f"/campaigns/{closed['id']}/draws", json={"winners": 1}), 409)
    assert db.session.query(Draw).count() == 1


def test_two_concurrent_draw_requests_make_one_draw(api: Api, app: Flask) -> None:
    closed = closed_lottery(api, people=5)
    n = 8
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    client = app.test_client()
    db.session.commit()

    def run() -> None:
        barrier.wait()
        response = contextvars.Context().run(
            FlaskClient.open,
            client,
            f"/api/v1/campaigns/{closed['id']}/draws",
            method="POST",
            json={"winners": 1},
            headers={"Authorization": f"Bearer {api.secret}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * (n - 1)
    assert db.session.query(Draw).count() == 1
    runs = db.session.query(AuditEntry).filter_by(action="draw.run").count()
    assert runs == 1


def test_a_disqualified_winner_is_replaced_by_the_next_alternate(api: Api) -> None:
    closed = closed_lottery(api)
    record = api.post(
        f"/campaigns/{closed['id']}/draws", json={"winners": 2, "alternates": 2}
    ).get_json()
    out = record["winners"][1]
    body = {"entry_id": out, "reason": "Did not claim within 14 days"}
    changed = api.post(f"/draws/{record['id']}/replacements", json=body)
    assert changed.status_code == 201, changed.get_data(as_text=True)
    after = changed.get_json()
    assert after["current_winners"] == [record["winners"][0], record["alternates"][0]]
    assert after["replacements"][0]["reason"] == "Did not claim within 14 days"
    assert verify_record(after).ok  # the original record is untouched
    again = api.post(f"/draws/{record['id']}/replacements", json=body)
    assert "entry_id" in problem(again, 422)["errors"]
    log = db.session.query(AuditEntry).filter_by(action="draw.replace").one()
    assert log.data["out"] == out and log.data["in"] == record["alternates"][0]


def test_draw_routes_of_another_workspace_answer_404(
    api: Api, client: FlaskClient, factory: Factory
) -> None:
    closed = closed_lottery(api, people=2)
    record = api.post(f"/campaigns/{closed['id']}/draws", json={"winners": 1}).get_json()
    _, other_secret = factory.api_key(factory.workspace())
    other = Api(client, other_secret)
    problem(other.get(f"/draws/{record['id']}"), 404)
    problem(other.post(f"/campaigns/{closed['id']}/draws", json={"winners": 1}), 404)
    body = {"entry_id": record["winners"][0], "reason": "no"}
    problem(other.post(f"/draws/{record['id']}/replacements", json=body), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "winners"), ({"winners": 0}, "winners")],  # more: tests/unit/test_api_schemas.py
)
def test_bad_draw_requests_answer_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    closed = closed_lottery(api, people=1)
    assert field in problem(api.post(f"/campaigns/{closed['id']}/draws", json=body), 422)["errors"]


def test_lottery_campaigns_list_only_their_own_draws(api: Api) -> None:
    closed = closed_lottery(api, people=2)
    record = api.post(f"/campaigns/{closed['id']}/draws", json={"winners": 1}).get_json()
    campaign = api.get(f"/campaigns/{closed['id']}").get_json()
    assert campaign["draw_id"] == record["id"]
    assert db.session.get(Campaign, int(closed["id"])).status == "closed"


# --- no purchase necessary ----------------------------------------------------------------------


def test_a_rule_giving_entries_for_a_paid_event_answers_422_on_reward(api: Api) -> None:
    """Every paid event: tests/services/test_lottery.py."""
    lottery = live_lottery(api)
    rule = {"event": "purchase", "level": 0, "reward": "entries", "amount": 3}
    body = problem(api.post(f"/campaigns/{lottery['id']}/reward-rules", json=rule), 422)
    assert set(body["errors"]) == {"reward"}
    assert "no purchase necessary" in body["errors"]["reward"][0]
    assert db.session.query(RewardRule).count() == 0
    free = {"event": "signup_confirmed", "level": 1, "reward": "entries", "amount": 1}
    assert api.post(f"/campaigns/{lottery['id']}/reward-rules", json=free).status_code == 201


def test_closing_a_lottery_whose_rule_sells_entries_answers_409_naming_the_rule(
    api: Api,
) -> None:
    lottery = live_lottery(api)
    rule = RewardRule(
        campaign_id=int(lottery["id"]), event="purchase", level=0, reward="entries", amount=5
    )
    db.session.add(rule)
    db.session.commit()
    rule_id = rule.id
    join(api, lottery["id"], "person@example.org")
    body = problem(api.post(f"/campaigns/{lottery['id']}/close"), 409)
    assert f"Reward rule {rule_id} gives draw entries for purchase" in body["detail"]
    db.session.rollback()
    after = api.get(f"/campaigns/{lottery['id']}").get_json()
    assert after["status"] == "live" and after["entries_digest"] is None
    assert db.session.query(LotteryEntry).count() == 0
