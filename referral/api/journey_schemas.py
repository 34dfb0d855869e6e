"""Schemas of the journey endpoints and of a customer's tags. Types and ranges only: a
definition is an object here, and the domain reads it (docs/JOURNEYS.md)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf
from marshmallow import ValidationError

from referral.api.schemas import Text, _Out, _time_out
from referral.domain.journey_fields import TEXT_MAX
from referral.models.journey import JOURNEY_STATUSES
from referral.services.journeys import NAME_MAX, START_STATUSES

TAGS_MAX = 50
_ID = {"description": "An id, as a string of digits."}

EXAMPLE_DEFINITION: dict[str, Any] = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [
        {"id": "wait", "type": "wait", "for": {"days": 1}},
        {"id": "hook", "type": "webhook", "label": "vip_day_one"},
        {"id": "end", "type": "exit"},
    ],
}
_DEFINITION_TEXT = (
    "The journey as JSON (docs/JOURNEYS.md): `trigger` and `steps`, optional "
    "`goal`, `reentry`, `cap`, `quiet_hours`, `holdout_percent`. Checked when saved: each "
    "problem is named under `definition` (`definition.trigger`, `definition.steps.<id>`) "
    "and `detail` names the first faulty step. A `send` step names a message template of "
    "the workspace."
)
_DEFINITION: dict[str, Any] = {"description": _DEFINITION_TEXT, "example": EXAMPLE_DEFINITION}


def _storable(value: Any, where: str) -> None:
    """:raise ValidationError: for text the databases cannot store (NUL, lone surrogates),
    in a key or a value at any depth."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"{where} must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{where} must be valid Unicode text.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, where)
            _storable(item, where)
    elif isinstance(value, list):
        for item in value:
            _storable(item, where)


class JsonObject(Dict):
    """A JSON object of any shape whose text the databases can store."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        found = super()._deserialize(value, attr, data, **kwargs)
        _storable(found, "Its text")
        return found


class JourneyIn(Schema):
    name = Text(required=True, validate=Length(1, NAME_MAX))
    definition = JsonObject(required=True, metadata=_DEFINITION)
    campaign_id = Text(
        allow_none=True,
        validate=Length(1, 20),
        metadata={
            **_ID,
            "description": "Only this campaign's customers enter (a campaign of the workspace).",
        },
    )
    status = Text(
        validate=OneOf(START_STATUSES),
        metadata={"description": "`draft` (default: nobody enters) or `running`."},
    )


class JourneyPatch(Schema):
    """Only the given fields change."""

    name = Text(validate=Length(1, NAME_MAX))
    definition = JsonObject(
        metadata={
            **_DEFINITION,
            "description": "A new version when it differs from the current one; customers "
            "already in the journey keep the version they entered with. " + _DEFINITION_TEXT,
        }
    )
    status = Text(
        validate=OneOf(JOURNEY_STATUSES),
        metadata={
            "description": "`running` resumes the journey, `paused` pauses a running one; "
            "`draft` only for a journey that has never run. Another change answers 409."
        },
    )


class JourneyOut(_Out):
    id = String(required=True)
    name = String(required=True)
    status = String(required=True, validate=OneOf(JOURNEY_STATUSES))
    campaign_id = String(required=True, allow_none=True)
    version = Integer(required=True, metadata={"description": "The current version, from 1."})
    trigger_kind = String(
        required=True,
        metadata={
            "description": "What starts it: an event kind, `tag_added`, `date` or `inactivity`."
        },
    )
    definition = Dict(required=True, metadata={"description": "The current version's JSON."})
    created_at = _time_out(required=True)
    updated_at = _time_out(required=True)


class JourneyPage(_Out):
    items = List(Nested(JourneyOut), required=True)
    next_cursor = String(required=True, allow_none=True)


def _counts(description: str) -> Dict:
    return Dict(
        keys=String(), values=Integer(), required=True, metadata={"description": description}
    )


class StepStatsOut(_Out):
    id = String(required=True)
    type = String(
        required=True,
        allow_none=True,
        metadata={"description": "null for a step of an older version only."},
    )
    reached = Integer(required=True, metadata={"description": "Enrolments that were at the step."})
    waiting = Integer(required=True, metadata={"description": "Enrolments standing there now."})
    sent = Integer(required=True)
    skipped = _counts("Messages skipped, by reason (`no_consent`, `cap`, …).")
    deferred = _counts("Messages deferred, by reason (`quiet_hours`).")
    outcomes = _counts("Every outcome logged at the step, counted.")


class JourneyStatsOut(_Out):
    journey_id = String(required=True)
    version = Integer(required=True)
    entered = Integer(required=True)
    in_progress = Integer(required=True, metadata={"description": "Active or waiting."})
    done = Integer(required=True)
    exited = Integer(required=True)
    goal_reached = Integer(required=True)
    conversion_rate = Float(
        required=True, metadata={"description": "goal_reached ÷ entered (0 when none)."}
    )
    sent = Integer(required=True)
    skipped = _counts("Messages skipped over every step, by reason.")
    steps = List(
        Nested(StepStatsOut),
        required=True,
        metadata={"description": "In the order of the current definition."},
    )


def _tags(description: str) -> List:
    return List(
        Text(validate=Length(1, TEXT_MAX)),
        validate=Length(max=TAGS_MAX),
        metadata={"description": description},
    )


class TagsIn(Schema):
    add = _tags(
        "Tags to put on the customer; a tag they did not have starts the journeys of that tag."
    )
    remove = _tags("Tags to take off (not also in `add`).")


class TagsOut(_Out):
    customer_id = String(required=True)
    tags = List(String(), required=True, metadata={"description": "All of them, sorted."})
    added = List(String(), required=True, metadata={"description": "Those that were new."})
    removed = List(String(), required=True, metadata={"description": "Those they had."})
