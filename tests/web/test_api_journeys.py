"""Journeys through the JSON API: create, list, read, change, pause and resume, their
figures, and a customer's tags starting the journeys of a tag (docs/API.md, Journeys).

The rules behind these routes are asked of the services in
tests/services/test_journey_api_rules.py; here, the HTTP shape."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import Customer, Workspace
from referral.models.journey import CustomerTag, Journey, JourneyEnrolment
from tests.factories import Factory
from tests.scenarios import VIP
from tests.web.conftest import Api, assert_iso_with_offset, assert_problem, count


def new_journey(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": "VIP welcome", "definition": VIP, **fields}
    return api.ok("POST", "/journeys", 201, json=body)


@pytest.fixture
def customer(factory: Factory, workspace: Workspace) -> Customer:
    return factory.customer(workspace, "anna@example.com")


def tags(customer_id: int) -> list[str]:
    db.session.rollback()
    return sorted(
        db.session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id))
    )


# --- journeys -----------------------------------------------------------------------------


def test_a_new_journey_answers_201_with_its_address_and_version_1(api: Api) -> None:
    response = api.post("/journeys", json={"name": "VIP welcome", "definition": VIP})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/journeys/{body['id']}")
    assert body["id"].isdigit() and body["campaign_id"] is None
    assert (body["name"], body["status"], body["version"]) == ("VIP welcome", "draft", 1)
    assert body["trigger_kind"] == "tag_added" and body["definition"] == VIP
    assert_iso_with_offset(body["created_at"])
    assert_iso_with_offset(body["updated_at"])
    assert api.ok("GET", f"/journeys/{body['id']}") == body


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # The schema's own refusals: tests/unit/test_api_schemas.py; one proves the wiring.
        ({"name": "X", "definition": VIP, "status": "paused"}, {"status"}),
        ({"name": " ", "definition": VIP}, {"name"}),
        ({"name": "X", "definition": {"steps": []}}, {"definition"}),
        ({"name": "X", "definition": {**VIP, "trigger": {"type": "tag_added"}}}, None),
    ],
)
def test_a_bad_journey_answers_422_naming_each_field(
    api: Api, body: dict[str, Any], fields: set[str] | None
) -> None:
    problem = assert_problem(api.post("/journeys", json=body), 422)
    if fields is None:  # a problem inside the definition: named under it
        assert all(name.startswith("definition.") for name in problem["errors"])
    else:
        assert set(problem["errors"]) == fields
    assert count(Journey) == 0


def test_pause_and_resume_answer_409_when_not_allowed(api: Api) -> None:
    journey = new_journey(api)
    path = f"/journeys/{journey['id']}"
    assert_problem(api.post(f"{path}/pause"), 409)  # a draft
    assert api.ok("POST", f"{path}/resume")["status"] == "running"
    assert_problem(api.post(f"{path}/resume"), 409)  # running already
    assert api.ok("POST", f"{path}/pause")["status"] == "paused"
    assert_problem(api.post(f"{path}/pause"), 409)  # paused already
    assert api.ok("POST", f"{path}/resume")["status"] == "running"


# --- a customer's tags --------------------------------------------------------------------


def test_an_empty_change_answers_the_tags_as_they_are(api: Api, customer: Customer) -> None:
    api.ok("POST", f"/customers/{customer.id}/tags", json={"add": ["vip"]})
    body = api.ok("POST", f"/customers/{customer.id}/tags", json={})
    assert (body["tags"], body["added"], body["removed"]) == (["vip"], [], [])


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # The tags refused past the schema: tests/services/test_journey_api_rules.py; more
        # the schema refuses: tests/unit/test_api_schemas.py.
        ({"add": ["vip"], "remove": ["vip"]}, {"remove"}),
        ({"tags": ["vip"]}, {"tags"}),
    ],
)
def test_a_bad_tag_answers_422_naming_its_place_and_changes_nothing(
    api: Api, customer: Customer, body: dict[str, Any], fields: set[str]
) -> None:
    new_journey(api, status="running")
    problem = assert_problem(api.post(f"/customers/{customer.id}/tags", json=body), 422)
    assert set(problem["errors"]) == fields
    assert tags(customer.id) == [] and count(JourneyEnrolment) == 0


# --- replays ------------------------------------------------------------------------------


def test_every_journey_post_replayed_answers_the_first_answer_and_changes_nothing(
    api: Api, customer: Customer
) -> None:
    body = {"name": "VIP welcome", "definition": VIP}
    first = api.post("/journeys", json=body, key="create-1")
    replay = api.post("/journeys", json=body, key="create-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (replay.status_code, replay.get_json()) == (201, first.get_json())
    assert replay.headers["Location"] == first.headers["Location"]
    assert count(Journey) == 1
    path = f"/journeys/{first.get_json()['id']}"
    for action, status in (("resume", "running"), ("pause", "paused")):
        answers = [api.post(f"{path}/{action}", key=f"{action}-1") for _ in range(2)]
        assert [a.status_code for a in answers] == [200, 200]  # not 409 the second time
        assert answers[1].headers["Idempotent-Replayed"] == "true"
        assert answers[1].get_json() == answers[0].get_json()
        assert answers[0].get_json()["status"] == status
    assert_problem(api.post(f"{path}/resume", key="pause-1"), 409)  # another request
    tagging = {"add": ["vip"]}
    answers = [
        api.post(f"/customers/{customer.id}/tags", json=tagging, key="tag-1") for _ in range(2)
    ]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert answers[1].get_json() == answers[0].get_json()
    assert answers[0].get_json()["added"] == ["vip"]
