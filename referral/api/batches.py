"""Participants in bulk: a marketer's own customers added to a campaign, up to
:data:`~referral.services.imports.MAX_BATCH` a call, each with its own outcome."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Regexp

from referral import emails
from referral.api.auth import caller
from referral.api.lookup import owned_campaign
from referral.api.operations import operation
from referral.api.schemas import Flag, Text, _Out
from referral.domain.campaigns import LOCALES
from referral.domain.imports import BASIS_MAX, Person
from referral.errors import localized_errors, localized_message
from referral.services.identity import NAME_MAX
from referral.services.imports import CREATED, ERROR, EXISTING, MAX_BATCH, Outcome, import_people

# Some character other than white space, and no NUL anywhere.
_SAID = "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$"


class BatchItemIn(Schema):
    email = Text(
        required=True,
        validate=Length(1, 254),
        metadata={"description": "An address without a deliverable shape is this item's error."},
    )
    name = Text(validate=Length(0, NAME_MAX))
    locale = Text(validate=OneOf(LOCALES), allow_none=True)
    referral_code = Text(
        validate=Length(0, 64),
        allow_none=True,
        metadata={"description": "The referrer's code, as for a single participant."},
    )


class BatchIn(Schema):
    items = List(
        Nested(BatchItemIn),
        required=True,
        validate=Length(1, MAX_BATCH),
        metadata={"description": f"1 to {MAX_BATCH} people; more answers 422 naming `items`."},
    )
    basis = Text(
        required=True,
        validate=[Length(1, BASIS_MAX), Regexp(_SAID)],
        metadata={
            "description": 'Why you may write to these people ("customers who bought from '
            "us, existing contract\"): kept word for word as each one's consent, with "
            "purpose `imported`; it is no consent to marketing e-mail."
        },
    )
    confirmed = Flag(
        metadata={
            "description": "You vouch for the addresses: they are confirmed at once and get "
            "no confirmation e-mail. Default false: each new one is mailed a confirmation link."
        }
    )


class BatchItemOut(_Out):
    index = Integer(required=True, metadata={"description": "The item's place in `items`."})
    result = String(required=True, validate=OneOf((CREATED, EXISTING, ERROR)))
    participant_id = String(required=True, allow_none=True)
    status = String(required=True, allow_none=True)
    message = String(required=True, allow_none=True)
    errors = Dict(keys=String(), values=List(String()), required=True)


class BatchCounts(_Out):
    created = Integer(required=True)
    existing = Integer(required=True)
    error = Integer(required=True)


class BatchOut(_Out):
    items = List(Nested(BatchItemOut), required=True, metadata={"description": "In order."})
    counts = Nested(BatchCounts, required=True)


def _item(outcome: Outcome) -> dict[str, Any]:
    participation = outcome.participation
    error = outcome.error
    return {
        "index": outcome.person.line,
        "result": outcome.result,
        "participant_id": str(participation.id) if participation else None,
        "status": participation.status if participation else None,
        "message": localized_message(error) if error else None,
        "errors": localized_errors(error) if error else {},
    }


@operation(
    "POST /campaigns/<campaign_id>/participants/batch",
    "createParticipantsBatch",
    "Add participants in bulk",
    BatchOut,
    "Each item's outcome, in the order sent.",
    body=BatchIn,
    description=f"Up to {MAX_BATCH} people join a live campaign in one transaction, each "
    "as `POST /campaigns/{id}/participants` would add them. Each item's `result` is "
    "`created`, `existing` (already in the campaign, unchanged: sending the same batch again "
    "adds nobody) or `error` with its `message` and `errors` (an address without a "
    "deliverable shape, a throwaway address the campaign blocks, the same person earlier in "
    "the batch); the other items are added all the same. Every person added gets a consent "
    "record with purpose `imported` and the `basis` as its text, which grants no marketing "
    "e-mail. A campaign that is not open answers 409 and adds nobody.",
    errors=(400, 401, 404, 409, 413, 422),
)
def create_participants_batch(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    people = [
        Person(
            item["email"],
            line=index,
            name=item.get("name") or "",
            locale=item.get("locale"),
            referral_code=item.get("referral_code") or None,
        )
        for index, item in enumerate(data["items"])
    ]
    result = import_people(
        campaign,
        people,
        data["basis"],
        confirmed=bool(data.get("confirmed")),
        source="api",
        compose=emails.confirmation,
        **caller(),
    )
    return {"items": [_item(o) for o in result.outcomes], "counts": result.counts}
