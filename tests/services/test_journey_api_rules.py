"""Journeys and a customer's tags as the API changes them, asked of the services it calls:
which campaign a journey may name, versions, the status's moves, the figures, and the tags
that start journeys. The HTTP shape is in tests/web/test_api_journeys.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import Customer, Workspace
from referral.models.journey import CustomerTag, Journey, JourneyEnrolment, JourneyVersion
from referral.services import journey_api
from referral.services.journey_runner import run_due
from referral.services.privacy import erase_customer
from tests.factories import Factory
from tests.scenarios import ORPHAN, VIP


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def new_journey(workspace: Workspace, **fields: Any) -> Journey:
    return journey_api.create(workspace.id, {"name": "VIP welcome", "definition": VIP, **fields})


@pytest.fixture
def workspace(factory: Factory) -> Workspace:
    return factory.workspace()


@pytest.fixture
def customer(factory: Factory, workspace: Workspace) -> Customer:
    return factory.customer(workspace, "anna@example.com")


def tags(customer: Customer) -> list[str]:
    db.session.expire_all()
    query = select(CustomerTag.tag).where(CustomerTag.customer_id == customer.id)
    return sorted(db.session.scalars(query))


# --- journeys --------------------------------------------------------------------------------


def test_a_journey_may_name_a_campaign_of_its_workspace(
    factory: Factory, workspace: Workspace
) -> None:
    campaign = factory.campaign(workspace, status="live")
    journey = new_journey(workspace, campaign_id=str(campaign.id), status="running")
    assert (journey.campaign_id, journey.status, journey.version) == (campaign.id, "running", 1)


@pytest.mark.parametrize("whose", ["another workspace's", "zero", "not an id"])
def test_a_campaign_id_of_no_campaign_of_the_workspace_is_refused(
    factory: Factory, workspace: Workspace, whose: str
) -> None:
    foreign = factory.campaign(factory.workspace(), status="live")
    ident = {"another workspace's": str(foreign.id), "zero": "0", "not an id": "abc"}[whose]
    with pytest.raises(ValidationFailed) as raised:
        new_journey(workspace, campaign_id=ident)
    assert list(raised.value.errors) == ["campaign_id"]
    assert count(Journey) == 0


def test_a_faulty_definition_is_refused_naming_the_step_and_stores_nothing(
    workspace: Workspace,
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        journey_api.create(workspace.id, {"name": "Broken", "definition": ORPHAN})
    assert list(raised.value.errors) == ["definition.steps.orphan"]
    assert "orphan" in str(raised.value)
    assert count(Journey) == 0 and count(JourneyVersion) == 0


def test_journeys_are_paged_oldest_first_within_the_workspace(
    factory: Factory, workspace: Workspace
) -> None:
    made = [new_journey(workspace, name=f"J{n}").id for n in range(3)]
    new_journey(factory.workspace())
    first = journey_api.journey_page(workspace.id, 2, None)
    assert [j.id for j in first.items] == made[:2]
    rest = journey_api.journey_page(workspace.id, 2, first.next_cursor)
    assert [j.id for j in rest.items] == made[2:] and rest.next_cursor is None
    with pytest.raises(ValidationFailed):
        journey_api.journey_page(workspace.id, None, "nonsense")


def test_a_changed_definition_is_a_new_version_and_a_bad_one_changes_nothing(
    workspace: Workspace,
) -> None:
    journey = new_journey(workspace)
    longer = {**VIP, "reentry": "every_time"}
    journey_api.change(journey, {"name": "VIP", "definition": longer})
    assert (journey.name, journey.version, journey.definition) == ("VIP", 2, longer)
    journey_api.change(journey, {"definition": longer})
    assert journey.version == 2
    with pytest.raises(ValidationFailed) as raised:
        journey_api.change(journey, {"name": "New", "definition": ORPHAN})
    assert list(raised.value.errors) == ["definition.steps.orphan"]
    assert "orphan" in str(raised.value)
    db.session.expire_all()
    assert (journey.name, journey.version, journey.definition) == ("VIP", 2, longer)
    assert count(JourneyVersion) == 2


def test_the_status_runs_pauses_and_never_goes_back_to_draft(workspace: Workspace) -> None:
    journey = new_journey(workspace)
    assert journey_api.change(journey, {"status": "draft"}).status == "draft"
    with pytest.raises(Conflict):
        journey_api.change(journey, {"status": "paused"})  # a draft is not running
    assert journey_api.change(journey, {"status": "running"}).status == "running"
    assert journey_api.change(journey, {"status": "paused"}).status == "paused"
    with pytest.raises(Conflict):
        journey_api.change(journey, {"status": "draft"})
    db.session.expire_all()
    assert journey.status == "paused"


def test_pause_and_resume_only_when_they_change_something(workspace: Workspace) -> None:
    journey = new_journey(workspace)
    with pytest.raises(Conflict):
        journey_api.pause(journey)  # a draft
    assert journey_api.resume(journey).status == "running"
    with pytest.raises(Conflict):
        journey_api.resume(journey)  # running already
    assert journey_api.pause(journey).status == "paused"
    with pytest.raises(Conflict):
        journey_api.pause(journey)  # paused already
    assert journey_api.resume(journey).status == "running"


def test_the_figures_count_each_step_of_the_journey(
    factory: Factory, workspace: Workspace, customer: Customer
) -> None:
    journey = new_journey(workspace, status="running")
    for who in (customer, factory.customer(workspace, "ben@example.com")):
        journey_api.change_tags(who, ["vip"], [])
    run_due()
    stats = journey_api.stats(journey)
    assert (stats["journey_id"], stats["version"]) == (journey.id, 1)
    assert (stats["entered"], stats["done"], stats["in_progress"]) == (2, 2, 0)
    assert stats["conversion_rate"] == 0.0 and stats["skipped"] == {}
    steps = {step["id"]: step for step in stats["steps"]}
    assert list(steps) == ["hook", "end"]
    assert steps["hook"]["type"] == "webhook" and steps["hook"]["reached"] == 2
    assert steps["hook"]["outcomes"]["webhook"] == 2
    assert steps["end"]["reached"] == 2 and steps["end"]["waiting"] == 0


# --- a customer's tags -----------------------------------------------------------------------


def test_adding_a_tag_starts_the_running_journeys_of_that_tag_once(
    workspace: Workspace, customer: Customer
) -> None:
    running = new_journey(workspace, status="running")
    new_journey(workspace, name="Draft")  # a draft: nobody enters
    first = journey_api.change_tags(customer, ["vip", " loyal "], [])
    assert first == journey_api.TagChange(customer.id, ["loyal", "vip"], ["vip", "loyal"], [])
    again = journey_api.change_tags(customer, ["vip"], ["loyal", "never"])
    assert (again.tags, again.added, again.removed) == (["vip"], [], ["loyal"])
    assert list(db.session.scalars(select(JourneyEnrolment.journey_id))) == [running.id]
    assert tags(customer) == ["vip"]


def test_an_empty_change_leaves_the_tags_as_they_are(customer: Customer) -> None:
    journey_api.change_tags(customer, ["vip"], [])
    same = journey_api.change_tags(customer, [], [])
    assert (same.tags, same.added, same.removed) == (["vip"], [], [])


@pytest.mark.parametrize(
    ("add", "remove", "fields"),
    [
        (["ok", "\u2028"], [], {"add.1"}),
        (["   "], [], {"add.0"}),
        (["vip"], ["vip"], {"remove"}),
    ],
)
def test_a_bad_tag_is_refused_naming_its_place_and_changes_nothing(
    workspace: Workspace, customer: Customer, add: list[str], remove: list[str], fields: set[str]
) -> None:
    new_journey(workspace, status="running")
    with pytest.raises(ValidationFailed) as raised:
        journey_api.change_tags(customer, add, remove)
    assert set(raised.value.errors) == fields
    assert tags(customer) == [] and count(JourneyEnrolment) == 0


def test_an_erased_customer_cannot_be_tagged(customer: Customer) -> None:
    erase_customer(customer)
    with pytest.raises(Conflict):
        journey_api.change_tags(customer, ["vip"], [])
    assert tags(customer) == []
