"""Events reported by integrators (purchases, conversions, …) and what they pay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from referral.domain.errors import N_, Conflict, Message, ValidationFailed
from referral.domain.rewards import check_opted_in
from referral.extensions import db
from referral.models import Campaign, Customer, Event, LedgerEntry, Participation
from referral.models.base import utcnow
from referral.services import journey_enrolment, refunds, rewards, webhook_events
from referral.services.rows import insert_row, insert_row_once, insert_rows
from referral.services.tx import atomic

REPORTABLE = ("purchase", "trial_converted", "survey_completed", "lottery_entered", "refund")
EXTERNAL_ID_MAX = 128
# What a participant does at most once per campaign: recorded (and paid) once, whoever
# reports it (the API, a survey page, a marketer's button), whatever external id they give.
ONCE_PER_PARTICIPANT = ("survey_completed", "trial_converted", "lottery_entered")


def once_key(kind: str, participation_id: int) -> str:
    """The external id under which a once-per-participant event is stored."""
    return f"{kind}:{participation_id}"


def record_event(
    workspace_id: int,
    whom: Participation | Customer,
    kind: str,
    *,
    amount: int | None = None,
    currency: str | None = None,
    external_id: str | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Put ``kind`` on a customer's timeline, written at once in the caller's transaction:
    for a participation, in its campaign; for a customer, outside any.

    ``occurred_at`` defaults to now. The unique (campaign, kind, ``external_id``) keeps a
    repeat out: a caller that may meet one records the event inside a savepoint.
    """
    values = _columns(workspace_id, whom, kind, amount, currency, external_id, data, occurred_at)
    event = insert_row(Event, values)
    journey_enrolment.enrol_for_event(event)
    webhook_events.for_event(event, whom)
    return event


def record_events(
    workspace_id: int, people: Sequence[Participation], kind: str, data: Sequence[dict[str, Any]]
) -> list[Event]:
    """:func:`record_event` for many participations at once (``data[i]`` for
    ``people[i]``): one multi-row insert, then each event's journeys and webhooks as one
    recorded alone would have; the events in the order of ``people``."""
    values = [
        _columns(workspace_id, whom, kind, None, None, None, extra, None)
        for whom, extra in zip(people, data, strict=True)
    ]
    if not values:
        return []
    statement = insert(Event).returning(Event, sort_by_parameter_order=True)
    events = list(db.session.scalars(statement, values))
    for event, whom in zip(events, people, strict=True):
        journey_enrolment.enrol_for_event(event)
        webhook_events.for_event(event, whom)
    return events


class Timeline:
    """Events for customers' timelines that one use case records together: each
    :meth:`add` is written by the next :meth:`write`, all of them in one multi-row insert,
    in the order added (their ids too), each then with its journeys and webhooks as
    :func:`record_event` would. As there, a repeat of a unique (campaign, kind,
    ``external_id``) raises ``IntegrityError``: a caller that may meet one keeps it out
    first. Written in the caller's transaction."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self._values: list[dict[str, Any]] = []
        self._whom: list[Participation] = []

    def add(
        self,
        whom: Participation,
        kind: str,
        *,
        amount: int | None = None,
        external_id: str | None = None,
        data: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        self._values.append(
            _columns(self.workspace_id, whom, kind, amount, None, external_id, data, occurred_at)
        )
        self._whom.append(whom)

    def write(self) -> list[Event]:
        """Write what was added since the last write; the events, in the order added."""
        values, whom = self._values, self._whom
        if not values:
            return []
        self._values, self._whom = [], []
        written = insert_rows(Event, values)
        for event, person in zip(written, whom, strict=True):
            journey_enrolment.enrol_for_event(event)
            webhook_events.for_event(event, person)
        return written


def record_event_once(
    workspace_id: int,
    participation: Participation,
    kind: str,
    *,
    external_id: str,
    data: dict[str, Any] | None = None,
) -> Event | None:
    """As :func:`record_event`, for an event that its (campaign, kind, ``external_id``)
    makes unique; None when it is recorded already, also by a concurrent transaction
    (``INSERT … ON CONFLICT DO NOTHING``: no savepoint needed)."""
    values = _columns(workspace_id, participation, kind, None, None, external_id, data, None)
    event = insert_row_once(Event, values, ("campaign_id", "kind", "external_id"))
    if event is not None:
        journey_enrolment.enrol_for_event(event)
        webhook_events.for_event(event, participation)
    return event


def _columns(
    workspace_id: int,
    whom: Participation | Customer,
    kind: str,
    amount: int | None,
    currency: str | None,
    external_id: str | None,
    data: dict[str, Any] | None,
    occurred_at: datetime | None,
) -> dict[str, Any]:
    if isinstance(whom, Participation):
        customer_id, campaign_id, participation_id = whom.customer_id, whom.campaign_id, whom.id
    else:
        customer_id, campaign_id, participation_id = whom.id, None, None
    return {
        "workspace_id": workspace_id,
        "customer_id": customer_id,
        "campaign_id": campaign_id,
        "participation_id": participation_id,
        "kind": kind,
        "amount": amount,
        "currency": currency,
        "external_id": external_id,
        "data": data or {},
        "occurred_at": occurred_at or utcnow(),
    }


@dataclass
class Reported:
    event: Event
    rewards: list[LedgerEntry] = field(default_factory=list)
    created: bool = True
    # The ledger lines this report made void (a refund of a purchase that paid them).
    voided: list[LedgerEntry] = field(default_factory=list)


def _check(
    kind: str,
    amount: Any,
    currency: Any,
    external_id: Any,
    occurred_at: Any,
    purchase_external_id: Any = None,
) -> None:
    errors: dict[str, list[str | Message]] = {}
    if purchase_external_id is not None and kind != "refund":
        errors["purchase_external_id"] = [N_("Only a refund names the purchase it refunds.")]
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


def find_event(campaign: Campaign, kind: str, external_id: str) -> Event | None:
    """The event of ``kind`` stored under ``external_id`` in ``campaign``, if any."""
    return db.session.scalar(
        select(Event).where(
            Event.campaign_id == campaign.id, Event.kind == kind, Event.external_id == external_id
        )
    )


def _replay(campaign: Campaign, kind: str, external_id: str) -> Reported | None:
    event = find_event(campaign, kind, external_id)
    if event is None:
        return None
    paid = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.source_event_id == event.id).order_by(LedgerEntry.id)
    )
    return Reported(event, list(paid), created=False)


def _once_per_participant(
    participation: Participation, kind: str, external_id: str | None, data: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any] | None]:
    """The external id and data under which ``kind`` is stored: an event a participant
    does once is keyed by the participant, the integrator's id kept in its data."""
    if kind not in ONCE_PER_PARTICIPANT:
        return external_id, data
    if external_id:
        data = {**(data or {}), "external_id": external_id}
    return once_key(kind, participation.id), data


def _refunded_purchase(
    campaign: Campaign, participation: Participation, purchase_external_id: str | None
) -> Event | None:
    """The purchase a refund names by its ``external_id``: one of this participant in
    this campaign.

    :raise ValidationFailed: on ``purchase_external_id``, no such purchase of theirs.
    """
    if purchase_external_id is None:
        return None
    purchase = find_event(campaign, "purchase", purchase_external_id)
    if purchase is None or purchase.participation_id != participation.id:
        raise ValidationFailed(
            N_("Some fields are not valid."),
            {
                "purchase_external_id": [
                    N_("This participant has no purchase with this external id in the campaign.")
                ]
            },
        )
    return purchase


def _check_participant(participation: Participation) -> None:
    """:raise Conflict: rejected.  :raise NotConfirmed: the address is not confirmed yet."""
    if participation.status == "rejected":
        raise Conflict(N_("This participant was rejected; nothing is recorded for them."))
    check_opted_in(participation.confirmed_at is not None)


def _recorded(
    campaign: Campaign, participation: Participation, kind: str, **fields: Any
) -> Reported:
    """The new event and what it pays; reported concurrently, the first report."""
    try:
        with db.session.begin_nested():
            event = record_event(campaign.workspace_id, participation, kind, **fields)
    except IntegrityError:
        replay = _replay(campaign, kind, fields.get("external_id") or "")
        if replay is None:
            raise
        return replay
    return Reported(event, rewards.pay_for_event(event, participation, campaign))


@atomic
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
    purchase_external_id: str | None = None,
    actor: str = "",
) -> Reported:
    """Record what a participant did and pay the campaign's rules for it.

    The same ``external_id`` (per campaign and kind) is recorded once and pays once, also
    when reported concurrently; a repeat returns the first event with ``created=False``.
    Nothing is recorded for someone who has not confirmed their address yet: rewards flow
    only after double opt-in, so the event is refused and can be reported again (and then
    paid, once) after the confirmation.

    A ``refund`` that names its purchase (``purchase_external_id``, the purchase's
    ``external_id``: one of this participant in this campaign) makes void every ledger line
    that purchase paid (:func:`refunds.void_purchase_rewards`, audited under ``actor``);
    a repeat of the refund, or a second refund of the purchase, voids nothing more. A
    refund that names none is recorded and voids nothing.

    :raise ValidationFailed: bad fields; a purchase named that this participant does not
        have here (``purchase_external_id``).  :raise Conflict: a rejected participant.
    :raise NotConfirmed: (a Conflict) a participant who has not confirmed their address.
    """
    _check(kind, amount, currency, external_id, occurred_at, purchase_external_id)
    _check_participant(participation)
    purchase = _refunded_purchase(campaign, participation, purchase_external_id)
    if purchase is not None:
        data = {**(data or {}), "purchase_event_id": purchase.id}
    external_id, data = _once_per_participant(participation, kind, external_id, data)
    replay = _replay(campaign, kind, external_id) if external_id else None
    if replay is not None:
        return replay
    reported = _recorded(
        campaign,
        participation,
        kind,
        amount=amount,
        currency=currency.upper() if currency else None,
        external_id=external_id,
        data=data,
        occurred_at=occurred_at,
    )
    if purchase is not None and reported.created:
        reported.voided = refunds.void_purchase_rewards(purchase, reported.event, actor=actor)
    return reported
