"""Journeys: list, create, read, change (name, status, definition), pause, resume, their
figures; and a customer's tags, which start the journeys of a tag (docs/JOURNEYS.md)."""

from __future__ import annotations

from typing import Any

from flask import g

from referral.api.journey_schemas import (
    JourneyIn,
    JourneyOut,
    JourneyPage,
    JourneyPatch,
    JourneyStatsOut,
    TagsIn,
    TagsOut,
)
from referral.api.lookup import owned_customer
from referral.api.operations import created, operation
from referral.api.schemas import ListQuery
from referral.services import journey_api as service


def _owned(journey_id: str) -> Any:
    return service.journey_in(g.workspace_id, journey_id)


# Creating is registered before listing: the document then names JourneyOut once (a page
# registered first would bring in a second copy of it).
@operation(
    "POST /journeys",
    operation_id="createJourney",
    summary="Create a journey",
    description="A new journey at version 1, a `draft` (nobody enters) unless `status` is "
    "`running`. The definition is checked when saved: each problem is named under "
    "`definition` (`definition.steps.<id>` …) and `detail` names the first faulty step; "
    "a `campaign_id` of no campaign of the workspace answers 422 naming it.",
    body=JourneyIn,
    output=JourneyOut,
    status=201,
    output_description="The new journey.",
    errors=(400, 401, 413, 422),
)
def create_journey(data: dict[str, Any]) -> Any:
    journey = service.create(g.workspace_id, data)
    return created(journey, "api.get_journey", journey_id=str(journey.id))


@operation(
    "GET /journeys",
    operation_id="listJourneys",
    summary="List journeys",
    query=ListQuery,
    output=JourneyPage,
    output_description="A page of the workspace's journeys, oldest first.",
    errors=(401, 422),
)
def list_journeys(query: dict[str, Any]) -> Any:
    return service.journey_page(g.workspace_id, query.get("limit"), query.get("cursor"))


@operation(
    "GET /journeys/<journey_id>",
    operation_id="getJourney",
    summary="Get a journey",
    output=JourneyOut,
    output_description="The journey, with its current definition.",
    errors=(401, 404),
)
def get_journey(journey_id: str) -> Any:
    return _owned(journey_id)


@operation(
    "PATCH /journeys/<journey_id>",
    operation_id="updateJourney",
    summary="Change a journey",
    description="Changes only the given fields. A `definition` that differs from the current "
    "one becomes the next version; customers already in the journey keep theirs. Its "
    "problems answer 422 as on creation, and nothing changes. `status`: `running` resumes, "
    "`paused` pauses a running journey (else 409), `draft` is kept only by a draft (else "
    "409).",
    body=JourneyPatch,
    output=JourneyOut,
    output_description="The changed journey.",
    errors=(400, 401, 404, 409, 413, 422),
)
def patch_journey(journey_id: str, data: dict[str, Any]) -> Any:
    return service.change(_owned(journey_id), data)


@operation(
    "POST /journeys/<journey_id>/pause",
    operation_id="pauseJourney",
    summary="Pause a running journey",
    description="Nobody enters and no enrolment takes a step until it is resumed; what "
    "fell due meanwhile runs then. Only a running journey can be paused (else 409).",
    output=JourneyOut,
    output_description="The journey, now paused.",
    errors=(401, 404, 409),
)
def pause_journey(journey_id: str) -> Any:
    return service.pause(_owned(journey_id))


@operation(
    "POST /journeys/<journey_id>/resume",
    operation_id="resumeJourney",
    summary="Run a draft or paused journey",
    description="The journey runs: customers enter on its trigger, and waiting enrolments "
    "go on. A journey that is running already answers 409.",
    output=JourneyOut,
    output_description="The journey, now running.",
    errors=(401, 404, 409),
)
def resume_journey(journey_id: str) -> Any:
    return service.resume(_owned(journey_id))


@operation(
    "GET /journeys/<journey_id>/stats",
    operation_id="getJourneyStats",
    summary="Get a journey's figures",
    description="Per journey: customers who entered, in progress, done, exited, who reached "
    "the goal and the conversion rate, messages sent and skipped by reason. Per step, in "
    "the order of the current definition: enrolments that reached it and that wait there, "
    "messages sent, skipped and deferred by reason, and every outcome logged.",
    output=JourneyStatsOut,
    output_description="The journey's figures.",
    errors=(401, 404),
)
def journey_stats(journey_id: str) -> Any:
    return service.stats(_owned(journey_id))


@operation(
    "POST /customers/<customer_id>/tags",
    operation_id="changeCustomerTags",
    summary="Add and remove a customer's tags",
    description="Takes the tags of `remove` off and puts those of `add` on, in one "
    "transaction. A tag is 1 to 64 printable characters (trimmed); a bad one answers 422 "
    "naming its place (`add.0`), a tag in both lists 422 naming `remove`. Adding a tag the "
    "customer did not have starts the running journeys of that tag; adding one they have, "
    "or removing one they lack, changes nothing. An erased customer answers 409.",
    body=TagsIn,
    output=TagsOut,
    output_description="The customer's tags, and which changed.",
    errors=(400, 401, 404, 409, 413, 422),
)
def change_tags(customer_id: str, data: dict[str, Any]) -> Any:
    customer = owned_customer(customer_id)
    return service.change_tags(customer, data.get("add", []), data.get("remove", []))
