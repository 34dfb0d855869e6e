"""What each outgoing webhook event says, queued in the transaction of the change behind it.

Events on a participant's timeline map to webhook events (``entered`` is
``participant.joined``, ``survey_completed`` is ``survey.completed`` …); each is queued once
per endpoint under ``<event>:<id of its cause>`` (the delivery's unique key). Nothing is read
when no endpoint subscribed: the sign-up's ``entered`` asks the campaign row it already
holds (``Campaign.webhook_events``), every other event the endpoints read once per
transaction (``services.memo``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from referral.domain import attribution
from referral.extensions import db
from referral.models import WEBHOOK_EVENTS, Campaign, Customer, Event, LedgerEntry, Participation
from referral.services import webhooks

# Why a referral does not count, as the join decided it (``Participation.referral_status``).
REJECTED_AT_JOIN = (
    attribution.UNKNOWN_CODE,
    attribution.SELF_REFERRAL,
    attribution.EXPIRED,
    attribution.REFERRER_INELIGIBLE,
)
# Timeline events that are webhook events of the same meaning, payload ``{"event": …}``.
TIMELINE = {
    "milestone_reached": "milestone.reached",
    "survey_completed": "survey.completed",
    "trial_started": "trial.started",
    "trial_ending": "trial.ending",
    "trial_converted": "trial.converted",
    "instant_win_played": "instant_win.played",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _id(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _participant(participation: Participation) -> dict[str, Any]:
    customer = db.session.get(Customer, participation.customer_id)
    return {
        "id": str(participation.id),
        "campaign_id": str(participation.campaign_id),
        "email": customer.email_display if customer else None,
        "referral_code": participation.referral_code,
        "referrer_id": _id(participation.referrer_id),
        "depth": participation.depth,
        "status": participation.status,
        "referral_status": participation.referral_status,
        "channel": participation.channel,
    }


def _timeline_event(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "kind": event.kind,
        "participant_id": _id(event.participation_id),
        "campaign_id": _id(event.campaign_id),
        "amount": event.amount,
        "currency": event.currency,
        "data": event.data,
        "occurred_at": _iso(event.occurred_at),
    }


def for_event(event: Event, whom: Participation | Customer) -> None:
    """Queue the webhook events that ``event`` (just recorded) stands for."""
    if not isinstance(whom, Participation):
        return
    if event.kind == "entered":
        _joined(event, whom)
    elif event.kind == "signup_confirmed":
        if whom.referrer_id is not None and whom.status == "confirmed":
            referral_counted(event.workspace_id, whom, f"confirm:{event.id}")
    elif event.kind in TIMELINE:
        name = TIMELINE[event.kind]
        if webhooks.subscribed(event.workspace_id, name):
            webhooks.enqueue(
                event.workspace_id, name, f"{name}:{event.id}", {"event": _timeline_event(event)}
            )


def _joined(event: Event, participation: Participation) -> None:
    """``participant.joined``, and ``referral.rejected`` when the join refused the referral;
    decided from the campaign row the sign-up holds, so nobody subscribed costs nothing."""
    campaign = db.session.get(Campaign, participation.campaign_id)
    hooked = campaign.webhook_events if campaign is not None else WEBHOOK_EVENTS
    if "participant.joined" in hooked:
        data = {
            "participant": {**_participant(participation), "joined_at": _iso(event.occurred_at)}
        }
        webhooks.enqueue(
            event.workspace_id, "participant.joined", f"participant.joined:{participation.id}", data
        )
    if "referral.rejected" in hooked and participation.referral_status in REJECTED_AT_JOIN:
        referral_rejected(event.workspace_id, participation, participation.referral_status)


def _referral(participation: Participation) -> dict[str, Any]:
    return {
        "participant_id": str(participation.id),
        "referrer_id": _id(participation.referrer_id),
        "campaign_id": str(participation.campaign_id),
        "channel": participation.channel,
    }


def referral_counted(workspace_id: int, participation: Participation, cause: str) -> None:
    """Queue ``referral.counted``: the friend is confirmed (and not held for review), so the
    referral counts for the referrer. Once per friend."""
    if not webhooks.subscribed(workspace_id, "referral.counted"):
        return
    data = {"referral": {**_referral(participation), "cause": cause}}
    webhooks.enqueue(workspace_id, "referral.counted", f"referral.counted:{participation.id}", data)


def referral_rejected(workspace_id: int, participation: Participation, reason: str) -> None:
    """Queue ``referral.rejected`` with the reason: at the join (``unknown_code``,
    ``self_referral``, ``expired``, ``referrer_ineligible``) or by review. Once per friend."""
    if not webhooks.subscribed(workspace_id, "referral.rejected"):
        return
    data = {"referral": {**_referral(participation), "reason": reason}}
    webhooks.enqueue(
        workspace_id, "referral.rejected", f"referral.rejected:{participation.id}", data
    )


def reward_voided(workspace_id: int, entry: LedgerEntry) -> None:
    """Queue ``reward.voided`` for a ledger line made void (refund, review), with the reason;
    once per line."""
    if not webhooks.subscribed(workspace_id, "reward.voided"):
        return
    data = {"reward": {**webhooks.reward_data(entry), "reason": entry.reason}}
    webhooks.enqueue(workspace_id, "reward.voided", f"reward.voided:{entry.id}", data)


def rewards_voided(workspace_id: int, entries: Iterable[LedgerEntry]) -> None:
    for entry in entries:
        reward_voided(workspace_id, entry)


def review_decided(
    workspace_id: int, rows: list[Participation], decision: str, reason: str, at: datetime
) -> None:
    """After a review decision (in its transaction): an approved friend's referral counts
    once confirmed, a rejected one's is rejected with the reason, and each reward the
    rejection made void is ``reward.voided``."""
    watched = ("referral.counted", "referral.rejected", "reward.voided")
    if not rows or not any(webhooks.subscribed(workspace_id, name) for name in watched):
        return
    for row in rows:
        if row.referrer_id is None:
            continue
        if decision == "approve" and row.status == "confirmed":
            referral_counted(workspace_id, row, "review")
        elif decision == "reject":
            referral_rejected(workspace_id, row, reason)
    if decision == "reject" and webhooks.subscribed(workspace_id, "reward.voided"):
        rewards_voided(workspace_id, _voided_at(rows, at))


def _voided_at(rows: list[Participation], at: datetime) -> list[LedgerEntry]:
    ids = [row.id for row in rows]
    db.session.flush()
    return list(
        db.session.scalars(
            select(LedgerEntry)
            .where(
                (LedgerEntry.participation_id.in_(ids))
                | LedgerEntry.source_event_id.in_(
                    select(Event.id).where(Event.participation_id.in_(ids))
                ),
                LedgerEntry.status == "void",
                LedgerEntry.decided_at == at,
            )
            .order_by(LedgerEntry.id)
        )
    )
