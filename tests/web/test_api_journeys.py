"""Journeys through the JSON API: create, list, read, change, pause and resume, their
figures, and a customer's tags starting the journeys of a tag (docs/API.md, Journeys)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import Customer, Workspace
from referral.models.journey import CustomerTag, Journey, JourneyEnrolment, JourneyVersion
from referral.services.journey_runner import run_due
from tests.factories import Factory
from tests.web.conftest import Api, assert_iso_with_offset, assert_problem, count

VIP = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [
        {"id": "hook", "type": "webhook", "label": "vip"},
        {"id": "end", "type": "exit"},
    ],
}
ORPHAN = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [{"id": "start", "type": "exit"}, {"id": "orphan", "type": "exit"}],
}


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


def test_a_journey_of_one_campaign_names_it_and_another_workspaces_campaign_is_422(
    api: Api, other_api: Api
) -> None:
    campaign = api.campaign()
    body = new_journey(api, campaign_id=campaign["id"], status="running")
    assert (body["campaign_id"], body["status"]) == (campaign["id"], "running")
    foreign = other_api.campaign()
    for campaign_id in (foreign["id"], "0", "abc"):
        response = api.post(
            "/journeys", json={"name": "X", "definition": VIP, "campaign_id": campaign_id}
        )
        assert list(assert_problem(response, 422)["errors"]) == ["campaign_id"]
    assert count(Journey) == 1


def test_a_faulty_definition_answers_422_naming_the_step_and_stores_nothing(api: Api) -> None:
    response = api.post("/journeys", json={"name": "Broken", "definition": ORPHAN})
    problem = assert_problem(response, 422)
    assert "orphan" in problem["detail"]
    assert list(problem["errors"]) == ["definition.steps.orphan"]
    assert count(Journey) == 0 and count(JourneyVersion) == 0


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


def test_journeys_are_listed_oldest_first_a_page_at_a_time(api: Api, other_api: Api) -> None:
    made = [new_journey(api, name=f"J{n}")["id"] for n in range(3)]
    new_journey(other_api)
    first = api.ok("GET", "/journeys?limit=2")
    assert [j["id"] for j in first["items"]] == made[:2]
    rest = api.ok("GET", f"/journeys?limit=2&cursor={first['next_cursor']}")
    assert [j["id"] for j in rest["items"]] == made[2:] and rest["next_cursor"] is None
    assert_problem(api.get("/journeys?cursor=nonsense"), 422)


def test_changing_the_definition_makes_a_new_version_and_a_bad_one_changes_nothing(
    api: Api,
) -> None:
    journey = new_journey(api)
    longer = {**VIP, "reentry": "every_time"}
    changed = api.ok(
        "PATCH", f"/journeys/{journey['id']}", json={"name": "VIP", "definition": longer}
    )
    assert (changed["name"], changed["version"], changed["definition"]) == ("VIP", 2, longer)
    same = api.ok("PATCH", f"/journeys/{journey['id']}", json={"definition": longer})
    assert same["version"] == 2
    response = api.patch(f"/journeys/{journey['id']}", json={"name": "New", "definition": ORPHAN})
    problem = assert_problem(response, 422)
    assert list(problem["errors"]) == ["definition.steps.orphan"] and "orphan" in problem["detail"]
    assert api.ok("GET", f"/journeys/{journey['id']}") == changed
    assert count(JourneyVersion) == 2


def test_the_status_runs_pauses_and_never_goes_back_to_draft(api: Api) -> None:
    journey = new_journey(api)
    path = f"/journeys/{journey['id']}"
    assert api.ok("PATCH", path, json={"status": "draft"})["status"] == "draft"
    assert_problem(api.patch(path, json={"status": "paused"}), 409)  # a draft is not running
    assert api.ok("PATCH", path, json={"status": "running"})["status"] == "running"
    assert api.ok("PATCH", path, json={"status": "paused"})["status"] == "paused"
    assert_problem(api.patch(path, json={"status": "draft"}), 409)
    assert api.ok("GET", path)["status"] == "paused"


def test_pause_and_resume_answer_409_when_not_allowed(api: Api) -> None:
    journey = new_journey(api)
    path = f"/journeys/{journey['id']}"
    assert_problem(api.post(f"{path}/pause"), 409)  # a draft
    assert api.ok("POST", f"{path}/resume")["status"] == "running"
    assert_problem(api.post(f"{path}/resume"), 409)  # running already
    assert api.ok("POST", f"{path}/pause")["status"] == "paused"
    assert_problem(api.post(f"{path}/pause"), 409)  # paused already
    assert api.ok("POST", f"{path}/resume")["status"] == "running"


def test_the_figures_count_each_step_of_the_journey(
    api: Api, customer: Customer, factory: Factory, workspace: Workspace
) -> None:
    journey = new_journey(api, status="running")
    other = factory.customer(workspace, "ben@example.com")
    for who in (customer, other):
        api.ok("POST", f"/customers/{who.id}/tags", json={"add": ["vip"]})
    run_due()
    stats = api.ok("GET", f"/journeys/{journey['id']}/stats")
    assert (stats["journey_id"], stats["version"]) == (journey["id"], 1)
    assert (stats["entered"], stats["done"], stats["in_progress"]) == (2, 2, 0)
    assert stats["conversion_rate"] == 0.0 and stats["skipped"] == {}
    steps = {step["id"]: step for step in stats["steps"]}
    assert list(steps) == ["hook", "end"]
    assert steps["hook"]["type"] == "webhook" and steps["hook"]["reached"] == 2
    assert steps["hook"]["outcomes"]["webhook"] == 2
    assert steps["end"]["reached"] == 2 and steps["end"]["waiting"] == 0


# --- a customer's tags --------------------------------------------------------------------


def test_adding_a_tag_starts_the_journeys_of_that_tag_once(api: Api, customer: Customer) -> None:
    running = new_journey(api, status="running")
    new_journey(api, name="Draft")  # a draft: nobody enters
    path = f"/customers/{customer.id}/tags"
    body = api.ok("POST", path, json={"add": ["vip", " loyal "]})
    assert body == {
        "customer_id": str(customer.id),
        "tags": ["loyal", "vip"],
        "added": ["vip", "loyal"],
        "removed": [],
    }
    again = api.ok("POST", path, json={"add": ["vip"], "remove": ["loyal", "never"]})
    assert (again["tags"], again["added"], again["removed"]) == (["vip"], [], ["loyal"])
    db.session.rollback()
    enrolled = db.session.scalars(select(JourneyEnrolment.journey_id)).all()
    assert enrolled == [int(running["id"])]
    assert tags(customer.id) == ["vip"]


def test_an_empty_change_answers_the_tags_as_they_are(api: Api, customer: Customer) -> None:
    api.ok("POST", f"/customers/{customer.id}/tags", json={"add": ["vip"]})
    body = api.ok("POST", f"/customers/{customer.id}/tags", json={})
    assert (body["tags"], body["added"], body["removed"]) == (["vip"], [], [])


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"add": ["ok", "\u2028"]}, {"add.1"}),
        ({"add": ["   "]}, {"add.0"}),
        ({"add": ["vip"], "remove": ["vip"]}, {"remove"}),
        ({"tags": ["vip"]}, {"tags"}),  # more the schema refuses: tests/unit/test_api_schemas.py
    ],
)
def test_a_bad_tag_answers_422_naming_its_place_and_changes_nothing(
    api: Api, customer: Customer, body: dict[str, Any], fields: set[str]
) -> None:
    new_journey(api, status="running")
    problem = assert_problem(api.post(f"/customers/{customer.id}/tags", json=body), 422)
    assert set(problem["errors"]) == fields
    assert tags(customer.id) == [] and count(JourneyEnrolment) == 0


def test_an_erased_customer_cannot_be_tagged(api: Api, customer: Customer) -> None:
    api.ok("POST", f"/customers/{customer.id}/erase")
    assert_problem(api.post(f"/customers/{customer.id}/tags", json={"add": ["vip"]}), 409)
    assert tags(customer.id) == []


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
