"""Free trials: started at confirmation, reminded once before the end, converted once.

A trial campaign is an ordinary campaign with double opt-in (``services.confirmation``); this
module adds what happens after the confirmation. Conversion is the ``trial_converted``
event, recorded by an integrator through the API or by a marketer in the admin, and paid by
the campaign's reward rules through the same path (``services.events.report_event``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.exc import IntegrityError

from referral.domain import trials as rules
from referral.domain.errors import N_, Conflict, NotFound
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Customer,
    Event,
    Participation,
    Trial,
    TrialReminder,
)
from referral.models.base import utcnow
from referral.services import outbox
from referral.services.events import Reported, record_event, report_event
from referral.services.tx import retry_on_contention

# (trial, participation, customer) -> the reminder e-mail; see ``referral.emails``.
ReminderComposer = Callable[[Trial, Participation, Customer], outbox.Mail]


def trial_settings(campaign: Campaign) -> rules.TrialSettings:
    return rules.settings_of((campaign.settings or {}).get("trial"))


def update_trial_settings(campaign: Campaign, days: object, reminder_days: object) -> Campaign:
    """Save a campaign's trial length and reminder. Running trials keep their dates.

    :raise ValidationFailed: see ``domain.trials.clean_settings``.
    """
    cleaned = rules.clean_settings(days, reminder_days)
    # A new dict: SQLAlchemy does not see changes made inside a JSON value.
    campaign.settings = {
        **(campaign.settings or {}),
        "trial": {"days": cleaned.days, "reminder_days": cleaned.reminder_days},
    }
    db.session.commit()
    return campaign


def is_converted(participation: Participation) -> bool:
    """Whether a ``trial_converted`` event exists for the person (API or marketer)."""
    return _converted(participation.id)


def _converted(participation_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Event.participation_id == participation_id, Event.kind == "trial_converted"
                )
            )
        )
    )


def participant_of(campaign: Campaign, participation_id: int) -> Participation:
    """:raise NotFound: no such participant in ``campaign`` (scoped by the campaign)."""
    found = (
        db.session.get(Participation, participation_id) if 0 < participation_id < 2**31 else None
    )
    if found is None or found.campaign_id != campaign.id:
        raise NotFound(N_("No such participant."))
    return found


def trial_of(participation: Participation) -> Trial | None:
    return db.session.scalar(select(Trial).where(Trial.participation_id == participation.id))


def start_trial(
    campaign: Campaign, participation: Participation, now: datetime | None = None
) -> Trial:
    """Start the free trial of a confirmed participant (inside the caller's transaction).

    Called once a confirmation is recorded. A second call, also a concurrent one, returns
    the first trial (unique key on the participation) and records nothing more.
    """
    found = trial_of(participation)
    if found is not None:
        return found
    span = rules.window(trial_settings(campaign), now or participation.confirmed_at or utcnow())
    trial = Trial(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        participation_id=participation.id,
        started_at=span.started_at,
        ends_at=span.ends_at,
        reminder_at=span.reminder_at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(trial)
    except IntegrityError:
        found = trial_of(participation)
        if found is None:
            raise
        return found
    record_event(
        campaign.workspace_id,
        participation,
        "trial_started",
        data={"ends_at": span.ends_at.isoformat()},
        occurred_at=span.started_at,
    )
    return trial


# --- the reminder job -----------------------------------------------------------------------


def due_reminders(now: datetime, limit: int = 500) -> list[int]:
    """Ids of trials whose reminder is due at ``now`` and not yet sent: still running, not
    converted, the person neither rejected nor erased."""
    reminded = exists().where(TrialReminder.trial_id == Trial.id)
    converted = exists().where(
        Event.participation_id == Trial.participation_id, Event.kind == "trial_converted"
    )
    query = (
        select(Trial.id)
        .join(Participation, Participation.id == Trial.participation_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(
            Trial.reminder_at.is_not(None),
            Trial.reminder_at <= now,
            Trial.ends_at > now,
            Participation.status != "rejected",
            Customer.erased_at.is_(None),
            ~reminded,
            ~converted,
        )
        .order_by(Trial.reminder_at, Trial.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


@retry_on_contention
def _remind(trial_id: int, compose: ReminderComposer, now: datetime) -> bool:
    """Send one trial's reminder unless it was sent (by this or a concurrent run)."""
    trial = db.session.get(Trial, trial_id)
    if trial is None:
        return False
    participation = db.session.get(Participation, trial.participation_id)
    customer = db.session.get(Customer, participation.customer_id) if participation else None
    if participation is None or customer is None:
        return False
    if trial.ends_at <= now or _converted(participation.id):  # changed since it was listed
        return False
    marker = TrialReminder(trial_id=trial.id, kind="ending")
    try:
        with db.session.begin_nested():
            db.session.add(marker)
    except IntegrityError:
        db.session.rollback()
        return False  # the unique key: another run sent it
    message = outbox.queue(
        trial.workspace_id,
        customer.email_display,
        "trial_ending",
        compose(trial, participation, customer),
        customer.id,
    )
    db.session.flush()
    marker.outbox_message_id = message.id
    record_event(
        trial.workspace_id,
        participation,
        "trial_ending",
        data={"ends_at": trial.ends_at.isoformat(), "subject": message.subject},
        occurred_at=now,
    )
    db.session.commit()
    return True


def send_reminders(compose: ReminderComposer, now: datetime | None = None) -> int:
    """Queue the "your trial ends soon" e-mail of every trial that is due, each exactly once.

    Safe to run as often as you like and from several processes at once: each reminder is
    claimed by inserting its ``trial_reminders`` row (unique per trial), in the same
    transaction as the outbox message, so a run that loses the race sends nothing. Returns
    how many reminders this run queued.
    """
    moment = now or utcnow()
    sent = 0
    for trial_id in due_reminders(moment):
        db.session.rollback()  # each reminder in a transaction of its own
        if _remind(trial_id, compose, moment):
            sent += 1
    return sent


# --- conversion -----------------------------------------------------------------------------


def convert_by_marketer(
    campaign: Campaign, participation: Participation, marketer_id: int | None
) -> Reported:
    """A marketer records that this trial turned into a paid plan.

    It is the same ``trial_converted`` event the API records, so it pays the campaign's
    rules (e.g. the referrer) the same way, once: its external id is fixed per person, so a
    double click or two marketers at once record one event and one payment.

    :raise Conflict: no trial started (not confirmed yet), or it is already converted.
    """
    if participation.campaign_id != campaign.id or trial_of(participation) is None:
        raise Conflict(N_("This person has not started a trial yet."))
    if _converted(participation.id):
        raise Conflict(N_("This trial is already converted."))
    db.session.add(
        AuditEntry(
            workspace_id=campaign.workspace_id,
            marketer_id=marketer_id,
            action="trial_converted",
            subject=f"participation:{participation.id}",
            data={},
        )
    )
    result = report_event(
        campaign,
        participation,
        "trial_converted",
        external_id=f"trial-converted:{participation.id}",
        data={"by": "marketer"},
    )
    if not result.created:
        db.session.rollback()  # the audit line belongs to the conversion that happened
        raise Conflict(N_("This trial is already converted."))
    return result


# --- what the marketer sees -----------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """Signed up → confirmed → started a trial (active at some point) → converted, plus how
    many trials run right now and how many ended without converting."""

    signed_up: int
    confirmed: int
    active: int
    converted: int
    running: int
    ended: int


def _converted_ids(campaign: Campaign) -> Select[int | None]:
    return (
        select(Event.participation_id)
        .where(Event.campaign_id == campaign.id, Event.kind == "trial_converted")
        .distinct()
    )


def funnel(campaign: Campaign, now: datetime | None = None) -> Funnel:
    """The trial funnel of ``campaign``. Rejected sign-ups count nowhere; ``converted``
    counts people with a trial and a ``trial_converted`` event (once each)."""
    moment = now or utcnow()
    people = select(
        func.count(),
        func.count(Participation.confirmed_at),
    ).where(Participation.campaign_id == campaign.id, Participation.status != "rejected")
    signed_up, confirmed = db.session.execute(people).one()
    converted_ids = _converted_ids(campaign)
    started = (
        select(Trial)
        .join(Participation, Participation.id == Trial.participation_id)
        .where(Trial.campaign_id == campaign.id, Participation.status != "rejected")
    )
    counted = started.with_only_columns(
        func.count(),
        func.count().filter(Trial.participation_id.in_(converted_ids)),
        func.count().filter(
            and_(Trial.ends_at > moment, Trial.participation_id.not_in(converted_ids))
        ),
    )
    active, converted, running = db.session.execute(counted).one()
    return Funnel(
        signed_up=int(signed_up),
        confirmed=int(confirmed),
        active=int(active),
        converted=int(converted),
        running=int(running),
        ended=int(active) - int(converted) - int(running),
    )


@dataclass(frozen=True)
class TrialRow:
    trial: Trial
    participation: Participation
    email: str
    customer_id: int
    state: str
    reminded: bool


def list_trials(
    campaign: Campaign, limit: int = 200, now: datetime | None = None
) -> list[TrialRow]:
    """The campaign's latest trials with their state, newest first."""
    moment = now or utcnow()
    converted_ids = set(db.session.scalars(_converted_ids(campaign)))
    rows = db.session.execute(
        select(Trial, Participation, Customer, TrialReminder.id)
        .join(Participation, Participation.id == Trial.participation_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .outerjoin(TrialReminder, TrialReminder.trial_id == Trial.id)
        .where(Trial.campaign_id == campaign.id)
        .order_by(Trial.started_at.desc(), Trial.id.desc())
        .limit(limit)
    ).all()
    return [
        TrialRow(
            trial,
            person,
            customer.email_display,
            customer.id,
            rules.state(trial.ends_at, person.id in converted_ids, moment),
            reminder_id is not None,
        )
        for trial, person, customer, reminder_id in rows
    ]
