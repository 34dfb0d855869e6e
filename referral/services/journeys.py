"""Journeys of a workspace: saving a definition (every change a new version), running,
pausing and resuming, and reading them back. See docs/JOURNEYS.md.

A definition is checked by the domain (``journey_parsing.parse_definition``) against the
workspace's message templates before anything is written: a bad one answers 422 naming the
faulty step and changes nothing. An enrolment runs on the version it entered with, so a
change reaches only the customers who enter after it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.domain.journey_parsing import GRANT_REWARDS, parse_definition
from referral.domain.journeys import (
    DateTrigger,
    Definition,
    EventTrigger,
    InactivityTrigger,
    TagTrigger,
    Trigger,
)
from referral.extensions import db
from referral.models import Campaign
from referral.models.journey import Journey, JourneyVersion
from referral.services.journey_templates import template_keys
from referral.services.scoping import get_owned
from referral.services.tx import atomic

NAME_MAX = 120
BAD_NAME = N_("Give the journey a name of 1 to %(max)s characters.")
NO_CAMPAIGN = N_("No such campaign.")
BAD_STATUS = N_("Choose draft or running.")
NOT_PAUSED = N_("Only a running journey can be paused.")
NO_VERSION = N_("This version of the journey does not exist.")
START_STATUSES = ("draft", "running")


def trigger_kind(trigger: Trigger) -> str:
    """What recording looks for: the event kind, or ``tag_added``, ``date``, ``inactivity``."""
    if isinstance(trigger, EventTrigger):
        return trigger.event
    if isinstance(trigger, TagTrigger):
        return "tag_added"
    if isinstance(trigger, DateTrigger):
        return "date"
    assert isinstance(trigger, InactivityTrigger)
    return "inactivity"


def _checked_name(name: object) -> str:
    """:raise ValidationFailed: on ``name`` unless it is 1 to ``NAME_MAX`` characters."""
    clean = name.strip() if isinstance(name, str) else ""
    if not clean or len(clean) > NAME_MAX or not clean.isprintable():
        raise ValidationFailed.on("name", BAD_NAME, {"max": NAME_MAX})
    return clean


def checked_campaign(workspace_id: int, campaign_id: object) -> int | None:
    """:raise ValidationFailed: on ``campaign_id`` for a campaign of another workspace."""
    if campaign_id is None:
        return None
    try:
        return get_owned(Campaign, campaign_id, workspace_id).id
    except NotFound:
        raise ValidationFailed.on("campaign_id", NO_CAMPAIGN) from None


def checked_definition(workspace_id: int, raw: object) -> Definition:
    """The definition ``raw``, checked against the workspace's message templates and the
    rewards a journey grants (``points``, ``coupon``).

    :raise ValidationFailed: with every problem; the summary names the first faulty step.
    """
    return parse_definition(raw, templates=template_keys(workspace_id), rewards=GRANT_REWARDS)


@atomic
def create_journey(
    workspace_id: int,
    name: object,
    definition: object,
    *,
    campaign_id: object = None,
    status: str = "draft",
) -> Journey:
    """A new journey at version 1, ``draft`` (nobody enters) or ``running``.

    :raise ValidationFailed: on ``name``, ``campaign_id``, ``status`` or the definition
        (keyed by where each problem is: ``trigger``, ``steps.<id>`` …).
    """
    clean_name = _checked_name(name)
    campaign = checked_campaign(workspace_id, campaign_id)
    if status not in START_STATUSES:
        raise ValidationFailed.on("status", BAD_STATUS)
    parsed = checked_definition(workspace_id, definition)
    assert isinstance(definition, dict)
    journey = Journey(
        workspace_id=workspace_id,
        campaign_id=campaign,
        name=clean_name,
        status=status,
        version=1,
        definition=definition,
        trigger_kind=trigger_kind(parsed.trigger),
    )
    db.session.add(journey)
    db.session.flush()
    db.session.add(JourneyVersion(journey_id=journey.id, version=1, definition=definition))
    return journey


@atomic
def update_journey(journey: Journey, *, name: object = None, definition: object = None) -> Journey:
    """Rename the journey and/or save a new definition. A definition that differs from the
    current one becomes the next version; enrolments already running keep theirs.

    :raise ValidationFailed: on ``name`` or the definition (nothing is changed).
    """
    if name is not None:
        journey.name = _checked_name(name)
    if definition is not None and definition != journey.definition:
        parsed = checked_definition(journey.workspace_id, definition)
        assert isinstance(definition, dict)
        journey.version += 1
        journey.definition = definition
        journey.trigger_kind = trigger_kind(parsed.trigger)
        db.session.add(
            JourneyVersion(journey_id=journey.id, version=journey.version, definition=definition)
        )
    return journey


@atomic
def pause_journey(journey: Journey) -> Journey:
    """Stop advancing: nobody enters and no enrolment takes a step until it is resumed
    (what fell due meanwhile runs then).

    :raise Conflict: unless the journey is running.
    """
    if journey.status != "running":
        raise Conflict(NOT_PAUSED)
    journey.status = "paused"
    return journey


@atomic
def resume_journey(journey: Journey) -> Journey:
    """Run a draft or paused journey (a running one stays as it is)."""
    journey.status = "running"
    return journey


def list_journeys(workspace_id: int) -> list[Journey]:
    """The workspace's journeys, newest first."""
    return list(
        db.session.scalars(
            select(Journey).where(Journey.workspace_id == workspace_id).order_by(Journey.id.desc())
        )
    )


def get_journey(workspace_id: int, journey_id: object) -> Journey:
    """:raise NotFound: for no such journey, or one of another workspace."""
    return get_owned(Journey, journey_id, workspace_id)


def definition_of(journey_id: int, version: int) -> Definition:
    """The parsed definition of one version (versions never change, so it is cached).

    :raise NotFound: when the version does not exist.
    """
    raw = db.session.scalar(
        select(JourneyVersion.definition).where(
            JourneyVersion.journey_id == journey_id, JourneyVersion.version == version
        )
    )
    if raw is None:
        raise NotFound(NO_VERSION)
    return parsed(raw)


def parsed(raw: dict[str, Any]) -> Definition:
    """A stored definition as values; it was valid when saved, so templates that were
    removed since are not checked again (the runner skips their sends)."""
    return _parse_text(json.dumps(raw, sort_keys=True))


@lru_cache(maxsize=256)
def _parse_text(text: str) -> Definition:
    return parse_definition(json.loads(text))
