"""Journeys as integrators use them through the API: a page of them, creating and changing
one (name, status and definition in one transaction), pausing and resuming it, and adding
and removing a customer's tags in one request.

Problems with a definition are named under ``definition`` (``definition.steps.orphan``,
``definition.trigger``), as the API names nested fields; the summary still names the
first faulty step. See docs/API.md and docs/JOURNEYS.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from referral.domain.errors import N_, Conflict, Message, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Customer
from referral.models.journey import CustomerTag, Journey
from referral.services import customer_tags, journey_tags, journeys
from referral.services.cursors import CursorPage, page
from referral.services.ids import parse_id
from referral.services.journey_stats import journey_stats
from referral.services.privacy import Actor
from referral.services.tx import atomic

NO_JOURNEY = N_("No such journey.")
NOT_RESUMABLE = N_("Only a draft or paused journey can be resumed.")
NO_DRAFT_AGAIN = N_("A journey that has been running cannot go back to draft.")
ERASED = N_("This customer has been erased.")
BOTH_WAYS = N_("A tag cannot be added and removed in the same request.")
SOME_FIELDS = N_("Some fields are not valid.")
DEFINITION = "definition"
# The fields of a body the journeys service names itself; anything else it names is a
# place in the definition.
BODY_FIELDS = {"name", "campaign_id", "status"}


def journey_in(workspace_id: int, journey_id: str) -> Journey:
    """The journey with this id in ``workspace_id``.

    :raise NotFound: for a malformed id, an unknown one, or one of another workspace alike.
    """
    ident = parse_id(journey_id)
    if ident is None:
        raise NotFound(NO_JOURNEY)
    try:
        return journeys.get_journey(workspace_id, ident)
    except NotFound:
        raise NotFound(NO_JOURNEY) from None


def journey_page(workspace_id: int, limit: Any, cursor: str | None) -> CursorPage[Journey]:
    """The workspace's journeys in id order, oldest first.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = select(Journey).where(Journey.workspace_id == workspace_id)
    return page(query, Journey.id, limit, cursor)


def _under_definition(error: ValidationFailed) -> ValidationFailed:
    """The definition's problems keyed as fields of the body (``definition.steps.orphan``)."""
    errors = {
        key if key == DEFINITION else f"{DEFINITION}.{key}": list(messages)
        for key, messages in error.messages.items()
    }
    return ValidationFailed(error.template, errors, error.params)


def _named(error: ValidationFailed) -> ValidationFailed:
    """``error`` as the API names its fields: a definition's problems under ``definition``."""
    if error.messages.keys() & BODY_FIELDS:
        return error
    return _under_definition(error)


def _campaign_id(raw: object) -> object:
    """A campaign id as the API writes it (a string of digits), for the journeys service;
    anything else names no campaign (422 naming ``campaign_id``)."""
    if raw is None:
        return None
    ident = parse_id(raw) if isinstance(raw, str) else None
    if ident is None:
        raise ValidationFailed.on("campaign_id", journeys.NO_CAMPAIGN)
    return ident


@atomic
def create(workspace_id: int, data: Mapping[str, Any]) -> Journey:
    """A new journey from the API's body: ``name``, ``definition``, optional
    ``campaign_id`` and ``status`` (``draft`` or ``running``).

    :raise ValidationFailed: naming each bad field; the definition's problems under
        ``definition``, the summary naming the first faulty step.
    """
    campaign_id = _campaign_id(data.get("campaign_id"))
    try:
        return journeys.create_journey(
            workspace_id,
            data["name"],
            data["definition"],
            campaign_id=campaign_id,
            status=data.get("status", "draft"),
        )
    except ValidationFailed as error:
        raise _named(error) from None


@atomic
def change(journey: Journey, data: Mapping[str, Any]) -> Journey:
    """Change the given fields: ``name``, ``definition`` (a new version when it differs)
    and ``status`` (``running`` resumes, ``paused`` pauses; ``draft`` only stays draft).

    :raise ValidationFailed: naming each bad field (nothing is changed).
    :raise Conflict: for a status the journey cannot take now.
    """
    db.session.refresh(journey, with_for_update=True)  # one change of a journey at a time
    try:
        journeys.update_journey(journey, name=data.get("name"), definition=data.get("definition"))
    except ValidationFailed as error:
        raise _named(error) from None
    status = data.get("status")
    if status is None or status == journey.status:
        return journey
    if status == "draft":
        raise Conflict(NO_DRAFT_AGAIN)
    if status == "paused":
        return journeys.pause_journey(journey)
    return journeys.resume_journey(journey)


@atomic
def pause(journey: Journey) -> Journey:
    """Pause a running journey. :raise Conflict: unless it is running."""
    db.session.refresh(journey, with_for_update=True)
    return journeys.pause_journey(journey)


@atomic
def resume(journey: Journey) -> Journey:
    """Run a draft or paused journey. :raise Conflict: when it is running already."""
    db.session.refresh(journey, with_for_update=True)
    if journey.status == "running":
        raise Conflict(NOT_RESUMABLE)
    return journeys.resume_journey(journey)


def stats(journey: Journey) -> dict[str, Any]:
    """The journey's figures and its steps' (``services.journey_stats``), with its id and
    current version."""
    return {"journey_id": journey.id, "version": journey.version, **journey_stats(journey)}


@dataclass(frozen=True)
class TagChange:
    """A customer's tags after a change: all of them (sorted), and what changed."""

    customer_id: int
    tags: list[str]
    added: list[str]
    removed: list[str]


def _checked_tags(field: str, raw: Sequence[object]) -> tuple[list[str], dict[str, list[Message]]]:
    """The tags of one list, cleaned and without repeats, and the problems by position
    (``add.0``)."""
    clean: list[str] = []
    found: dict[str, list[Message]] = {}
    for index, tag in enumerate(raw):
        try:
            clean.append(journey_tags.checked_tag(tag))
        except ValidationFailed as error:
            found[f"{field}.{index}"] = [m for ms in error.messages.values() for m in ms]
    return list(dict.fromkeys(clean)), found


def _raise(found: Mapping[str, Sequence[Message]]) -> None:
    """:raise ValidationFailed: with ``found``, when there is anything in it."""
    if found:
        raise ValidationFailed(SOME_FIELDS, found)


def tags_of(customer_id: int) -> list[str]:
    return sorted(
        db.session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id))
    )


@atomic
def change_tags(
    customer: Customer,
    add: Sequence[object],
    remove: Sequence[object],
    by: Actor | None = None,
) -> TagChange:
    """Take the tags of ``remove`` off the customer and put those of ``add`` on, in one
    transaction; a tag that is new starts the journeys of that tag. Adding a tag they have
    or removing one they lack changes nothing. Each change is audited under ``by``
    (``customer.tagged``, ``customer.untagged``) when it is given.

    :raise ValidationFailed: naming each bad tag by its place (``add.0``, ``remove.2``), or
        ``remove`` for a tag in both lists (nothing is changed).
    :raise Conflict: for an erased customer.
    """
    if customer.erased_at is not None:
        raise Conflict(ERASED)
    adding, found = _checked_tags("add", add)
    removing, more = _checked_tags("remove", remove)
    found.update(more)
    if set(adding) & set(removing):
        found.setdefault("remove", []).append(Message(BOTH_WAYS))
    _raise(found)
    removed = [tag for tag in removing if journey_tags.remove_tag(customer, tag)]
    added = [tag for tag in adding if journey_tags.add_tag(customer, tag)]
    if by is not None:
        for tag in removed:
            customer_tags.audit_tag("customer.untagged", customer, tag, by)
        for tag in added:
            customer_tags.audit_tag("customer.tagged", customer, tag, by)
    return TagChange(customer.id, tags_of(customer.id), added, removed)
