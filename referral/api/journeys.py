"""Journeys: list, create, read, change (name, status, definition), pause, resume, their
figures; and a customer's tags, which start the journeys of a tag (docs/JOURNEYS.md)."""

from __future__ import annotations

from typing import Any

from flask import g

from referral.api.auth import caller
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
from referral.api.operations import acts, changes, created, creates, lists, reads
from referral.services import journey_api as service
from referral.services.privacy import Actor


def _owned(journey_id: str) -> Any:
    return service.journey_in(g.workspace_id, journey_id)


# Creating is registered before listing: the document then names JourneyOut once (a page
# registered first would bring in a second copy of it).
@creates(
    "POST /journeys",
    "createJourney",
    "Create a journey",
    JourneyOut,
    "The new journey.",
    body=JourneyIn,
    description="A new journey at version 1, a `draft` (nobody enters) unless `status` is "
    "`running`. The definition is checked when saved: each problem is named under "
    "`definition` (`definition.steps.<id>` …) and `detail` names the first faulty step; "
    "a `campaign_id` of no campaign of the workspace answers 422 naming it.",
)
def create_journey(data: dict[str, Any]) -> Any:
    journey = service.create(g.workspace_id, data)
    return created(journey, "api.get_journey", journey_id=str(journey.id))


@lists(
    "GET /journeys",
    "listJourneys",
    "List journeys",
    JourneyPage,
    "A page of the workspace's journeys, oldest first.",
)
def list_journeys(query: dict[str, Any]) -> Any:
    return service.journey_page(g.workspace_id, query.get("limit"), query.get("cursor"))


@reads(
    "GET /journeys/<journey_id>",
    "getJourney",
    "Get a journey",
    JourneyOut,
    "The journey, with its current definition.",
)
def get_journey(journey_id: str) -> Any:
    return _owned(journey_id)


@changes(
    "PATCH /journeys/<journey_id>",
    "updateJourney",
    "Change a journey",
    JourneyOut,
    "The changed journey.",
    body=JourneyPatch,
    description="Changes only the given fields. A `definition` that differs from the current "
    "one becomes the next version; customers already in the journey keep theirs. Its "
    "problems answer 422 as on creation, and nothing changes. `status`: `running` resumes, "
    "`paused` pauses a running journey (else 409), `draft` is kept only by a draft (else "
    "409).",
)
def patch_journey(journey_id: str, data: dict[str, Any]) -> Any:
    return service.change(_owned(journey_id), data)


@acts(
    "POST /journeys/<journey_id>/pause",
    "pauseJourney",
    "Pause a running journey",
    JourneyOut,
    "The journey, now paused.",
    description="Nobody enters and no enrolment takes a step until it is resumed; what "
    "fell due meanwhile runs then. Only a running journey can be paused (else 409).",
)
def pause_journey(journey_id: str) -> Any:
    return service.pause(_owned(journey_id))


@acts(
    "POST /journeys/<journey_id>/resume",
    "resumeJourney",
    "Run a draft or paused journey",
    JourneyOut,
    "The journey, now running.",
    description="The journey runs: customers enter on its trigger, and waiting enrolments "
    "go on. A journey that is running already answers 409.",
)
def resume_journey(journey_id: str) -> Any:
    return service.resume(_owned(journey_id))


@reads(
    "GET /journeys/<journey_id>/stats",
    "getJourneyStats",
    "Get a journey's figures",
    JourneyStatsOut,
    "The journey's figures.",
    description="Per journey: customers who entered, in progress, done, exited, who reached "
    "the goal and the conversion rate, messages sent and skipped by reason. Per step, in "
    "the order of the current definition: enrolments that reached it and that wait there, "
    "messages sent, skipped and deferred by reason, and every outcome logged.",
)
def journey_stats(journey_id: str) -> Any:
    return service.stats(_owned(journey_id))


@changes(
    "POST /customers/<customer_id>/tags",
    "changeCustomerTags",
    "Add and remove a customer's tags",
    TagsOut,
    "The customer's tags, and which changed.",
    body=TagsIn,
    description="Takes the tags of `remove` off and puts those of `add` on, in one "
    "transaction. A tag is 1 to 64 letters, digits, spaces and `_ - . : / + &`, starting "
    "with a letter or a digit, and is stored lower-cased with its spaces trimmed (`VIP` is "
    "`vip`); a bad one answers 422 naming its place (`add.0`), a tag in both lists 422 "
    "naming `remove`. Adding a tag the customer did not have starts the running journeys of "
    "that tag; adding one they have, or removing one they lack, changes nothing. Each "
    "change is audited (`customer.tagged`, `customer.untagged`). An erased customer "
    "answers 409.",
)
def change_tags(customer_id: str, data: dict[str, Any]) -> Any:
    customer = owned_customer(customer_id)
    who = caller()
    return service.change_tags(
        customer,
        data.get("add", []),
        data.get("remove", []),
        Actor(label=who["actor"], ip_hash=who["ip_hash"]),
    )
