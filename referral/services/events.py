"""Events reported by integrators (purchases, conversions, …) and what they pay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain.errors import N_, Conflict, Message, ValidationFailed
from referral.domain.rewards import check_opted_in
from referral.extensions import db
from referral.models import Campaign, Event, LedgerEntry, Participation
from referral.models.base import utcnow
from referral.services.rewards import pay_for_event
from referral.services.tx import retry_on_contention

REPORTABLE = ("purchase", "trial_converted", "survey_completed", "lottery_entered", "refund")
EXTERNAL_ID_MAX = 128
# What a participant does at most once per campaign: recorded (and paid) once, whoever
# reports it (the API, a survey page, a marketer's button), whatever external id they give.
ONCE_PER_PARTICIPANT = ("survey_completed", "trial_converted", "lottery_entered")


def once_key(kind: str, participation_id: int) -> str:
    """The external id under which a once-per-participant event is stored."""
    return f"{kind}:{participation_id}"


@dataclass
class Reported:
    event: Event
    rewards: list[LedgerEntry] = field(default_factory=list)
    created: bool = True


def _check(kind: str, amount: Any, currency: Any, external_id: Any, occurred_at: Any) -> None:
    errors: dict[str, list[str | Message]] = {}
    if kind not in REPORTABLE:
        choices = ", ".join(REPORTABLE)
        errors["kind"] = [Message(N_("Choose one of: %(choices)s."), {"choices": choices})]
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or amount < 0
    ):
        errors["amount"] = [N_("The amount is a whole number of minor units (cents), 0 or more.")]
    if currency is not None and (
        not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha()
    ):
        errors["currency"] = [N_("Use a three-letter currency code, e.g. EUR.")]
    if external_id is not None and (
        not isinstance(external_id, str) or not 0 < len(external_id) <= EXTERNAL_ID_MAX
    ):
        errors["external_id"] = [
            Message(N_("Use 1 to %(max)s characters."), {"max": EXTERNAL_ID_MAX})
        ]
    if isinstance(occurred_at, datetime) and occurred_at > utcnow() + timedelta(days=1):
        errors["occurred_at"] = [N_("This time is in the future.")]
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)


def _replay(campaign: Campaign, kind: str, external_id: str) -> Reported | None:
    event = db.session.scalar(
        select(Event).where(
            Event.campaign_id == campaign.id, Event.kind == kind, Event.external_id == external_id
        )
    )
    if event is None:
        return None
    rewards = list(
        db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.source_event_id == event.id)
            .order_by(LedgerEntry.id)
        )
    )
    return Reported(event, rewards, created=False)


@retry_on_contention
def report_event(
    campaign: Campaign,
    participation: Participation,
    kind: str,
    *,
    amount: int | None = None,
    currency: str | None = None,
    external_id: str | None = None,
    occurred_at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Reported:
    """Record what a participant did and pay the campaign's rules for it.

    The same ``external_id`` (per campaign and kind) is recorded once and pays once, also
    when reported concurrently; a repeat returns the first event with ``created=False``.
    Nothing is recorded for someone who has not confirmed their address yet: rewards flow
    only after double opt-in, so the event is refused and can be reported again (and then
    paid, once) after the confirmation.

    :raise ValidationFailed: bad fields.  :raise Conflict: a rejected participant.
    :raise NotConfirmed: (a Conflict) a participant who has not confirmed their address.
    """
    _check(kind, amount, currency, external_id, occurred_at)
    if participation.status == "rejected":
        raise Conflict(N_("This participant was rejected; nothing is recorded for them."))
    check_opted_in(participation.confirmed_at is not None)
    if kind in ONCE_PER_PARTICIPANT:
        if external_id:
            data = {**(data or {}), "external_id": external_id}
        external_id = once_key(kind, participation.id)
    if external_id:
        replay = _replay(campaign, kind, external_id)
        if replay is not None:
            return replay
    event = Event(
        workspace_id=campaign.workspace_id,
        customer_id=participation.customer_id,
        campaign_id=campaign.id,
        participation_id=participation.id,
        kind=kind,
        amount=amount,
        currency=currency.upper() if currency else None,
        external_id=external_id,
        data=data or {},
        occurred_at=occurred_at or utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:
        db.session.rollback()
        replay = _replay(campaign, kind, external_id or "")
        if replay is None:
            raise
        return replay
    rewards = pay_for_event(event, participation, campaign)
    db.session.commit()
    return Reported(event, rewards)
