"""Participants: join a campaign (with a referrer's code), read, confirm, their rewards."""

from __future__ import annotations

from typing import Any

from flask import request

from referral import emails
from referral.api.engine_schemas import (
    ParticipantIn,
    ParticipantOut,
    ParticipantPage,
    ParticipantQuery,
    RewardsOut,
)
from referral.api.lookup import owned_campaign, owned_participant
from referral.api.operations import acts, created, creates, lists, reads
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.participant_stats import participant_page, rewards_page, standing

_EXISTING = {
    "description": "This address had joined already: the existing participant, unchanged.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ParticipantOut"}}},
}


def _join_request(data: dict[str, Any]) -> JoinRequest:
    consent = data.get("consent") or {}
    return JoinRequest(
        email=data["email"],
        name=data.get("name") or "",
        locale=data.get("locale"),
        referral_code=data.get("referral_code") or None,
        channel=data.get("channel") or "api",
        confirmed=bool(data.get("confirmed")),
        consent_text=consent.get("text"),
        consent_version=consent.get("version"),
        consent_purpose="marketing" if data.get("marketing") else "campaign_terms",
    )


def _visitor(data: dict[str, Any]) -> Visitor:
    """The consent row keeps where it was given (``consent.source``, else ``api``) and the
    request's User-Agent."""
    return Visitor(
        visitor_id=data.get("visitor_id"),
        user_agent=request.user_agent.string or None,
        page=(data.get("consent") or {}).get("source") or "api",
    )


@creates(
    "POST /campaigns/<campaign_id>/participants",
    "createParticipant",
    "Add a participant",
    ParticipantOut,
    "The new participant.",
    body=ParticipantIn,
    description="A person joins a live campaign, with the referrer's `referral_code` when they "
    "came through a referral. The same address again (in any spelling that normalises alike) "
    "answers 200 with the existing participant and changes nothing. A self-referral or an "
    "unknown code joins without a referrer and says why in `referral_status`. Unless "
    "`confirmed`, a confirmation e-mail is sent (double opt-in). With `consent`, its text and "
    "version are recorded on the customer (with `marketing: true`, as consent to marketing "
    "e-mails, which needs `consent`). A campaign that is not open answers 409.",
    responses={200: _EXISTING},
    conflict=True,
)
def create_participant(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    result = join_campaign(campaign, _join_request(data), _visitor(data), emails.confirmation)
    body = standing(result.participation)
    if not result.created:
        return body, 200
    return created(body, "api.get_participant", participant_id=str(body.id))


@lists(
    "GET /campaigns/<campaign_id>/participants",
    "listParticipants",
    "List participants",
    ParticipantPage,
    "A page of the campaign's participants, oldest first.",
    description="Optionally only those with a `status`.",
    query=ParticipantQuery,
)
def list_participants(campaign_id: str, query: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    return participant_page(campaign, query.get("status"), query.get("limit"), query.get("cursor"))


@reads(
    "GET /participants/<participant_id>",
    "getParticipant",
    "Get a participant",
    ParticipantOut,
    "The participant.",
)
def get_participant(participant_id: str) -> Any:
    return standing(owned_participant(participant_id))


@acts(
    "POST /participants/<participant_id>/confirm",
    "confirmParticipant",
    "Confirm a participant",
    ParticipantOut,
    "The participant, confirmed.",
    description="The caller verified the address. Pays the `signup_confirmed` rules once: "
    "confirming again (or concurrently) pays nothing more. A flagged participant stays "
    "flagged (rewards held for review); a rejected one answers 409.",
)
def confirm(participant_id: str) -> Any:
    participation, _rewards = confirm_participation(owned_participant(participant_id))
    return standing(participation)


@lists(
    "GET /participants/<participant_id>/rewards",
    "getParticipantRewards",
    "Get a participant's rewards",
    RewardsOut,
    "Ledger entries (oldest first) and balances.",
    description="A page of the participant's ledger entries, with balances over all of them: "
    "per reward kind the `approved` and `pending` totals (void entries count for nothing).",
)
def get_rewards(participant_id: str, query: dict[str, Any]) -> Any:
    participation = owned_participant(participant_id)
    return rewards_page(participation, query.get("limit"), query.get("cursor"))
