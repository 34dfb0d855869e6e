"""Loading the caller's rows by the ids in a path, and their public JSON shapes.

Every lookup is scoped to the API key's workspace: an id of another workspace, an unknown
id and a malformed one are the same 404 (DESIGN invariant 7).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app, g
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from referral.api.ids import parse_id
from referral.domain.errors import N_, NotFound
from referral.extensions import db
from referral.models import Campaign, Event, LedgerEntry, Participation, RewardRule
from referral.services.lottery import entry_of
from referral.services.scoping import get_owned


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def owned_campaign(campaign_id: str, *, lock: bool = False) -> Campaign:
    """The campaign of the caller's workspace; ``lock`` holds its row until the commit, so two
    concurrent state changes are applied one after the other.

    :raise NotFound: for a malformed id, an unknown one, or one of another workspace alike.
    """
    ident = parse_id(campaign_id)
    if ident is None:
        raise NotFound(N_("No such campaign."))
    campaign = get_owned(Campaign, ident, g.workspace_id)
    if lock:
        db.session.refresh(campaign, with_for_update=True)
    return campaign


def participant_in(ident: int | None, workspace_id: int) -> Participation | None:
    """The participation with this id in a campaign of ``workspace_id``, or None."""
    if ident is None:
        return None
    return db.session.scalar(
        select(Participation)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .options(joinedload(Participation.customer))
        .where(Participation.id == ident, Campaign.workspace_id == workspace_id)
    )


def owned_participant(participant_id: str) -> Participation:
    """:raise NotFound: for a malformed, unknown or other workspace's participant id."""
    found = participant_in(parse_id(participant_id), g.workspace_id)
    if found is None:
        raise NotFound(N_("No such participant."))
    return found


def participant_stats(ids: Iterable[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Confirmed referrals and points (approved + pending) of each participation, in two
    grouped queries however many there are."""
    ids = list(ids)
    if not ids:
        return {}, {}
    confirmed = db.session.execute(
        select(Participation.referrer_id, func.count())
        .where(Participation.referrer_id.in_(ids), Participation.status == "confirmed")
        .group_by(Participation.referrer_id)
    ).all()
    points = db.session.execute(
        select(LedgerEntry.participation_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.participation_id.in_(ids),
            LedgerEntry.reward == "points",
            LedgerEntry.status != "void",
        )
        .group_by(LedgerEntry.participation_id)
    ).all()
    return {k: int(v) for k, v in confirmed}, {k: int(v or 0) for k, v in points}


def participant_json(
    participation: Participation, referrals_confirmed: int = 0, points: int = 0
) -> dict[str, Any]:
    """The public shape of a participant (docs/API.md, Participant)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    code = participation.referral_code
    customer = participation.customer
    return {
        "id": str(participation.id),
        "campaign_id": str(participation.campaign_id),
        "customer_id": str(participation.customer_id),
        "email": customer.email_display if customer is not None else None,
        "name": (customer.name or "") if customer is not None else "",
        "locale": participation.locale,
        "referral_code": code,
        "referral_url": f"{base}/r/{code}",
        "qr_png_url": f"{base}/q/{code}.png",
        "qr_svg_url": f"{base}/q/{code}.svg",
        "referrer_id": str(participation.referrer_id) if participation.referrer_id else None,
        "depth": participation.depth,
        "channel": participation.channel,
        "status": participation.status,
        "referral_status": participation.referral_status,
        "created_at": iso(participation.created_at),
        "confirmed_at": iso(participation.confirmed_at),
        "referrals_confirmed": referrals_confirmed,
        "points": points,
    }


def participant_with_stats(participation: Participation) -> dict[str, Any]:
    """One participant with their counts; in a lottery also their ``entry_id`` (once the
    entries are frozen) and ``entries`` (one plus bonus entries, when confirmed)."""
    confirmed, points = participant_stats([participation.id])
    body = participant_json(
        participation, confirmed.get(participation.id, 0), points.get(participation.id, 0)
    )
    campaign = db.session.get(Campaign, participation.campaign_id)
    if campaign is not None and campaign.kind == "lottery":
        entry = entry_of(participation)
        body.update(entry_id=entry.entry_id, entries=entry.entries)
    return body


def rule_json(rule: RewardRule) -> dict[str, Any]:
    return {
        "id": str(rule.id),
        "campaign_id": str(rule.campaign_id),
        "event": rule.event,
        "milestone": rule.milestone,
        "level": rule.level,
        "reward": rule.reward,
        "amount": rule.amount,
        "currency": rule.currency,
        "active": rule.active,
        "created_at": iso(rule.created_at),
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "campaign_id": str(event.campaign_id) if event.campaign_id else None,
        "participant_id": str(event.participation_id) if event.participation_id else None,
        "kind": event.kind,
        "amount": event.amount,
        "currency": event.currency,
        "external_id": event.external_id,
        "occurred_at": iso(event.occurred_at),
        "created_at": iso(event.created_at),
    }


def ledger_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "participant_id": str(entry.participation_id),
        "source_event_id": str(entry.source_event_id),
        "rule_id": str(entry.rule_id),
        "level": entry.level,
        "reward": entry.reward,
        "amount": entry.amount,
        "currency": entry.currency,
        "coupon_code": entry.coupon_code,
        "status": entry.status,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
    }
