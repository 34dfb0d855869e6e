"""Participants: join a campaign (with a referrer's code), read, confirm, their rewards."""

from __future__ import annotations

import logging
from typing import Any

from flask import request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from referral import emails, tasks
from referral.api import bp
from referral.api.auth import auth
from referral.api.bodies import json_object_required
from referral.api.engine_schemas import (
    ParticipantIn,
    ParticipantOut,
    ParticipantPage,
    ParticipantQuery,
    RewardsOut,
)
from referral.api.guard import guarded
from referral.api.lookup import (
    ledger_json,
    owned_campaign,
    owned_participant,
    participant_json,
    participant_stats,
    participant_with_stats,
)
from referral.api.openapi import problem_responses
from referral.api.pagination import page
from referral.api.schemas import ListQuery
from referral.models import LedgerEntry, Participation
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rewards import balances

log = logging.getLogger(__name__)

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


def _deliver() -> None:
    """Wake the mail worker: the confirmation goes out in seconds, never inside a request."""
    tasks.wake_mailer()


@bp.post("/campaigns/<campaign_id>/participants")
@bp.auth_required(auth)
@guarded
@json_object_required
@bp.input(ParticipantIn, arg_name="data")
@bp.output(ParticipantOut, status_code=201, description="The new participant.")
@bp.doc(
    summary="Add a participant",
    description="A person joins a live campaign, with the referrer's `referral_code` when they "
    "came through a referral. The same address again (in any spelling that normalises alike) "
    "answers 200 with the existing participant and changes nothing. A self-referral or an "
    "unknown code joins without a referrer and says why in `referral_status`. Unless "
    "`confirmed`, a confirmation e-mail is sent (double opt-in). With `consent`, its text and "
    "version are recorded on the customer (with `marketing: true`, as consent to marketing "
    "e-mails, which needs `consent`). A campaign that is not open answers 409.",
    operation_id="createParticipant",
    responses={200: _EXISTING, **problem_responses(400, 401, 404, 409, 413, 422)},
)
def create_participant(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    result = join_campaign(campaign, _join_request(data), _visitor(data), emails.confirmation)
    if result.token is not None:
        _deliver()
    body = participant_with_stats(result.participation)
    if not result.created:
        return body, 200
    location = url_for("api.get_participant", participant_id=body["id"])
    return body, 201, {"Location": location}


@bp.get("/campaigns/<campaign_id>/participants")
@bp.auth_required(auth)
@guarded
@bp.input(ParticipantQuery, location="query", arg_name="query")
@bp.output(ParticipantPage, description="A page of the campaign's participants, oldest first.")
@bp.doc(
    summary="List participants",
    description="Optionally only those with a `status`.",
    operation_id="listParticipants",
    responses=problem_responses(401, 404, 422),
)
def list_participants(campaign_id: str, query: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    stmt = (
        select(Participation)
        .options(joinedload(Participation.customer))
        .where(Participation.campaign_id == campaign.id)
    )
    if query.get("status"):
        stmt = stmt.where(Participation.status == query["status"])
    rows, cursor = page(stmt, Participation.id, query.get("limit"), query.get("cursor"))
    confirmed, points = participant_stats(p.id for p in rows)
    items = [participant_json(p, confirmed.get(p.id, 0), points.get(p.id, 0)) for p in rows]
    return {"items": items, "next_cursor": cursor}


@bp.get("/participants/<participant_id>")
@bp.auth_required(auth)
@guarded
@bp.output(ParticipantOut, description="The participant.")
@bp.doc(
    summary="Get a participant",
    operation_id="getParticipant",
    responses=problem_responses(401, 404),
)
def get_participant(participant_id: str) -> Any:
    return participant_with_stats(owned_participant(participant_id))


@bp.post("/participants/<participant_id>/confirm")
@bp.auth_required(auth)
@guarded
@bp.output(ParticipantOut, description="The participant, confirmed.")
@bp.doc(
    summary="Confirm a participant",
    description="The caller verified the address. Pays the `signup_confirmed` rules once: "
    "confirming again (or concurrently) pays nothing more. A flagged participant stays "
    "flagged (rewards held for review); a rejected one answers 409.",
    operation_id="confirmParticipant",
    responses=problem_responses(401, 404, 409),
)
def confirm(participant_id: str) -> Any:
    participation, _rewards = confirm_participation(owned_participant(participant_id))
    return participant_with_stats(participation)


@bp.get("/participants/<participant_id>/rewards")
@bp.auth_required(auth)
@guarded
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(RewardsOut, description="Ledger entries (oldest first) and balances.")
@bp.doc(
    summary="Get a participant's rewards",
    description="A page of the participant's ledger entries, with balances over all of them: "
    "per reward kind the `approved` and `pending` totals (void entries count for nothing).",
    operation_id="getParticipantRewards",
    responses=problem_responses(401, 404, 422),
)
def get_rewards(participant_id: str, query: dict[str, Any]) -> Any:
    participation = owned_participant(participant_id)
    stmt = select(LedgerEntry).where(LedgerEntry.participation_id == participation.id)
    rows, cursor = page(stmt, LedgerEntry.id, query.get("limit"), query.get("cursor"))
    totals = balances(participation.id)
    points = totals.get("points", {})
    return {
        "participant_id": str(participation.id),
        "items": [ledger_json(e) for e in rows],
        "next_cursor": cursor,
        "balances": totals,
        "points": points.get("approved", 0) + points.get("pending", 0),
    }
