"""Free trials: started at confirmation, one reminder at the right time, converted once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral import emails
from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Event, LedgerEntry, OutboxMessage, Participation, Trial
from referral.services import trials
from referral.services.confirmation import confirm_by_token, confirm_participation
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import Factory


@pytest.fixture
def trial_campaign(factory: Factory):
    campaign = factory.campaign(kind="trial", status="live", reward_depth=1)
    trials.update_trial_settings(campaign, 14, 3)
    return campaign


def join(campaign, email, code=None, **kw):
    return join_campaign(campaign, JoinRequest(email=email, referral_code=code, **kw), Visitor())


def reminders() -> int:
    db.session.rollback()  # a fresh snapshot
    return db.session.scalar(select(func.count()).where(OutboxMessage.kind == "trial_ending"))


def test_the_trial_starts_when_the_address_is_confirmed(trial_campaign) -> None:
    result = join(trial_campaign, "anna@example.com")
    assert trials.trial_of(result.participation) is None
    person, first_use = confirm_by_token(result.token)
    assert first_use
    trial = trials.trial_of(person)
    assert trial is not None
    assert trial.started_at == person.confirmed_at
    assert trial.ends_at - trial.started_at == timedelta(days=14)
    assert trial.ends_at - trial.reminder_at == timedelta(days=3)
    kinds = db.session.scalars(select(Event.kind).where(Event.participation_id == person.id))
    assert "trial_started" in list(kinds)


def test_confirming_again_starts_no_second_trial(trial_campaign) -> None:
    person = join(trial_campaign, "anna@example.com").participation
    confirm_participation(person)
    confirm_participation(person)
    assert db.session.scalar(select(func.count()).select_from(Trial)) == 1


def test_a_referral_campaign_starts_no_trial(factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    join(campaign, "anna@example.com", confirmed=True)
    assert db.session.scalar(select(func.count()).select_from(Trial)) == 0


def test_the_reminder_is_sent_once_at_the_right_time(trial_campaign) -> None:
    person = join(trial_campaign, "anna@example.com", confirmed=True).participation
    trial = trials.trial_of(person)
    due = trial.reminder_at
    assert trials.send_reminders(emails.trial_ending, now=due - timedelta(seconds=1)) == 0
    assert reminders() == 0
    assert trials.send_reminders(emails.trial_ending, now=due) == 1
    assert reminders() == 1
    assert trials.send_reminders(emails.trial_ending, now=due + timedelta(hours=1)) == 0
    assert reminders() == 1
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "trial_ending"))
    assert message.to_address == "anna@example.com"
    assert "/trial/" in message.body_text
    kinds = list(db.session.scalars(select(Event.kind).where(Event.participation_id == person.id)))
    assert kinds.count("trial_ending") == 1


def test_no_reminder_after_the_trial_ended_or_once_converted(trial_campaign) -> None:
    ended = join(trial_campaign, "a@example.com", confirmed=True).participation
    converted = join(trial_campaign, "b@example.com", confirmed=True).participation
    report_event(trial_campaign, converted, "trial_converted", external_id="sub-1")
    trial = trials.trial_of(ended)
    assert trials.send_reminders(emails.trial_ending, now=trial.ends_at) == 0
    assert trials.send_reminders(emails.trial_ending, now=trial.reminder_at) == 1  # only ``ended``
    assert reminders() == 1


def test_a_reminder_is_sent_once_when_twenty_jobs_run_at_once(app, trial_campaign) -> None:
    for n in range(3):
        join(trial_campaign, f"p{n}@example.com", confirmed=True)
    due = max(t.reminder_at for t in db.session.scalars(select(Trial)))
    errors = race(app, 20, lambda _: trials.send_reminders(emails.trial_ending, now=due))
    assert errors == []
    assert reminders() == 3


def test_conversion_by_the_marketer_pays_the_referrer_once(trial_campaign, factory) -> None:
    add_rule(
        trial_campaign, {"event": "trial_converted", "level": 1, "reward": "points", "amount": 700}
    )
    advocate = join(trial_campaign, "adv@example.com", confirmed=True).participation
    friend = join(trial_campaign, "friend@example.com", advocate.referral_code, confirmed=True)
    marketer, _ = factory.marketer(workspace=None)
    result = trials.convert_by_marketer(trial_campaign, friend.participation, marketer.id)
    assert [(e.participation_id, e.amount) for e in result.rewards] == [(advocate.id, 700)]
    with pytest.raises(Conflict):
        trials.convert_by_marketer(trial_campaign, friend.participation, marketer.id)
    paid = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.participation_id == advocate.id)
    ).all()
    assert [e.amount for e in paid] == [700]


def test_twenty_concurrent_marketer_conversions_pay_once(app, trial_campaign) -> None:
    add_rule(
        trial_campaign, {"event": "trial_converted", "level": 1, "reward": "points", "amount": 700}
    )
    advocate = join(trial_campaign, "adv@example.com", confirmed=True).participation
    friend = join(trial_campaign, "f@example.com", advocate.referral_code, confirmed=True)
    ids = (trial_campaign.id, friend.participation.id)
    outcomes: list[str] = []

    def run(_: int) -> None:
        campaign = db.session.get(Campaign, ids[0])
        try:
            trials.convert_by_marketer(campaign, db.session.get(Participation, ids[1]), None)
            outcomes.append("converted")
        except Conflict:
            outcomes.append("conflict")

    errors = race(app, 20, run)
    assert errors == []
    assert sorted(set(outcomes)) <= ["conflict", "converted"], outcomes
    db.session.rollback()
    assert (
        db.session.scalar(select(func.count()).where(LedgerEntry.participation_id == advocate.id))
        == 1
    )


def test_a_person_without_a_trial_cannot_be_converted(trial_campaign) -> None:
    pending = join(trial_campaign, "p@example.com").participation
    with pytest.raises(Conflict):
        trials.convert_by_marketer(trial_campaign, pending, None)


def test_the_funnel_counts_each_stage(trial_campaign) -> None:
    join(trial_campaign, "pending@example.com")
    running = join(trial_campaign, "running@example.com", confirmed=True).participation
    converted = join(trial_campaign, "converted@example.com", confirmed=True).participation
    report_event(trial_campaign, converted, "trial_converted", external_id="c-1")
    report_event(
        trial_campaign, converted, "trial_converted", external_id="c-2"
    )  # twice: one person
    funnel = trials.funnel(trial_campaign)
    assert (funnel.signed_up, funnel.confirmed, funnel.active, funnel.converted) == (3, 2, 2, 1)
    assert (funnel.running, funnel.ended) == (1, 0)
    later = trials.funnel(trial_campaign, now=trials.trial_of(running).ends_at)
    assert (later.running, later.ended) == (0, 1)


@pytest.mark.parametrize(
    ("days", "reminder", "field"),
    [
        (0, 0, "days"),
        (366, 3, "days"),
        (10, 10, "reminder_days"),
        (10, -1, "reminder_days"),
        ("x", 1, "days"),
    ],
)
def test_trial_settings_are_validated(trial_campaign, days, reminder, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        trials.update_trial_settings(trial_campaign, days, reminder)
    assert field in caught.value.errors
