"""What a journey knows about the customer of an enrolment, read from the database: the
facts its branches test, the events it waits for, and who may be written to.

- ``zone``: the customer's time zone, else the campaign's (``settings.timezone``, or a
  lottery's ``rules.timezone``), else UTC;
- ``attributes``: ``locale``, the participation's ``status`` and its ``utm_<key>`` values;
- ``tags`` (``CustomerTag``), ``points`` (approved and pending, in the enrolment's campaign,
  else in all of the customer's), ``campaign``, ``channel`` and ``generation`` (the depth)
  of the participation;
- ``answers``: the customer's own survey answers by question key ``q<question id>``, the
  latest response winning; answers to anonymous surveys are never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from referral.domain.consent_topics import (
    Cap,
    ConsentEntry,
    Recipient,
    in_holdout,
    subscribed_topics,
)
from referral.domain.errors import ValidationFailed
from referral.domain.journey_conditions import Answer, Facts
from referral.domain.journey_dates import zone
from referral.domain.journey_interpreter import SeenEvent
from referral.domain.journeys import Definition, WaitFor
from referral.domain.message_templates import SurveyAnswer as AnswerShown
from referral.extensions import db
from referral.models import (
    Campaign,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Participation,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from referral.models.journey import CustomerTag, JourneyEnrolment, JourneyStepLog
from referral.services.rewards import points

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Subject:
    """The customer an enrolment runs for, in its campaign, and the facts about them."""

    customer: Customer
    participation: Participation | None
    campaign: Campaign | None
    facts: Facts


def customer_zone(customer: Customer, campaign: Campaign | None) -> ZoneInfo:
    """The zone of the customer's clock (a name the time zone database lacks counts as
    none, so a bad value never stops a journey)."""
    settings = campaign.settings if campaign else {}
    rules = settings.get("rules") if isinstance(settings.get("rules"), dict) else {}
    for name in (customer.timezone, settings.get("timezone"), rules.get("timezone")):
        if isinstance(name, str) and name:
            try:
                return zone(name)
            except ValidationFailed:
                continue
    return UTC_ZONE


def subject_of(enrolment: JourneyEnrolment) -> Subject:
    customer = db.session.get(Customer, enrolment.customer_id)
    assert customer is not None
    participation = (
        db.session.get(Participation, enrolment.participation_id)
        if enrolment.participation_id
        else None
    )
    campaign_id = enrolment.campaign_id or (participation.campaign_id if participation else None)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    facts = Facts(
        zone=customer_zone(customer, campaign),
        attributes=_attributes(customer, participation),
        tags=tags_of(customer.id),
        points=points_of(customer.id, participation),
        campaign_id=campaign_id,
        channel=participation.channel if participation else None,
        generation=participation.depth if participation else None,
        answers={a.question: _fact(a) for a in survey_answers(customer.id)},
    )
    return Subject(customer, participation, campaign, facts)


def _attributes(customer: Customer, participation: Participation | None) -> dict[str, Any]:
    found: dict[str, Any] = {"locale": customer.locale or (participation and participation.locale)}
    if participation is not None:
        found["status"] = participation.status
        for key, value in (participation.utm or {}).items():
            if isinstance(value, str | int | float | bool):
                found[f"utm_{key}"] = value
    return found


def tags_of(customer_id: int) -> frozenset[str]:
    return frozenset(
        db.session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id))
    )


def points_of(customer_id: int, participation: Participation | None) -> int:
    """The points a branch sees: in the participation, else in all of the customer's."""
    if participation is not None:
        return points(participation.id)
    total = db.session.scalar(
        select(func.sum(LedgerEntry.amount))
        .join(Participation, Participation.id == LedgerEntry.participation_id)
        .where(
            Participation.customer_id == customer_id,
            LedgerEntry.reward == "points",
            LedgerEntry.status != "void",
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class _Answer:
    question: str
    kind: str
    values: tuple[str | int, ...]


def survey_answers(customer_id: int) -> list[_Answer]:
    """The customer's answers to surveys that are not anonymous, per question key, the
    latest response to a question winning."""
    rows = db.session.execute(
        select(
            SurveyResponse.id,
            SurveyQuestion.id,
            SurveyQuestion.kind,
            SurveyAnswer.number,
            SurveyAnswer.text,
            SurveyOption.label,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .join(Participation, Participation.id == SurveyResponse.participation_id)
        .where(Participation.customer_id == customer_id, Survey.anonymous.is_(False))
        .order_by(SurveyResponse.id, SurveyAnswer.id)
    ).all()
    latest: dict[str, tuple[int, str, list[str | int]]] = {}
    for response_id, question_id, kind, number, text, label in rows:
        key = f"q{question_id}"
        if key not in latest or latest[key][0] != response_id:
            latest[key] = (response_id, kind, [])
        value = label if label is not None else number if number is not None else text
        if value is not None:
            latest[key][2].append(value)
    return [_Answer(key, kind, tuple(values)) for key, (_r, kind, values) in latest.items()]


def _fact(answer: _Answer) -> Answer:
    if answer.kind == "multiple":
        return tuple(str(v) for v in answer.values)
    return answer.values[0] if answer.values else ""


def shown_answers(customer_id: int) -> list[AnswerShown]:
    """The answers as messages quote them (the options chosen joined by ", ")."""
    shown = []
    for answer in survey_answers(customer_id):
        value = answer.values[0] if len(answer.values) == 1 else ", ".join(map(str, answer.values))
        shown.append(AnswerShown(answer.question, value))
    return shown


def seen_events(enrolment: JourneyEnrolment, definition: Definition) -> list[SeenEvent]:
    """The customer's events since entering of the kinds the definition waits for or
    counts as its goal (the only ones the interpreter looks at)."""
    kinds = {step.event for step in definition.steps if isinstance(step, WaitFor)}
    if definition.goal is not None:
        kinds.add(definition.goal.event)
    if not kinds:
        return []
    rows = db.session.execute(
        select(Event.kind, Event.occurred_at)
        .where(
            Event.customer_id == enrolment.customer_id,
            Event.kind.in_(kinds),
            Event.occurred_at > enrolment.entered_at,
        )
        .order_by(Event.occurred_at, Event.id)
    ).all()
    return [SeenEvent(kind, at) for kind, at in rows]


def consent_entries(customer_id: int) -> list[ConsentEntry]:
    """The consent record as topics read it (``purpose`` is the topic), in writing order."""
    rows = db.session.execute(
        select(ConsentRecord.purpose, ConsentRecord.action, ConsentRecord.given_at)
        .where(ConsentRecord.customer_id == customer_id)
        .order_by(ConsentRecord.id)
    ).all()
    return [ConsentEntry(purpose, action, at) for purpose, action, at in rows]


def recipient(
    subject: Subject, journey_id: int, definition: Definition, now: datetime, workspace_cap: Cap
) -> Recipient:
    """Whether and how often the customer may be written to: topics, erasure, holdout, and
    when journey mail went to them (from any journey of the workspace, and from this one)
    within the longest cap's window (the workspace's ``workspace_cap`` or the journey's)."""
    customer = subject.customer
    days = max(workspace_cap.days, definition.cap.days if definition.cap else 0)
    sent = _sent(customer.id, now - timedelta(days=days))
    return Recipient(
        topics=subscribed_topics(consent_entries(customer.id)),
        zone=subject.facts.zone,
        erased=customer.erased_at is not None or not customer.email_display,
        held_out=in_holdout(journey_id, customer.id, definition.holdout_percent),
        sent_at=[at for _journey, at in sent],
        journey_sent_at=[at for journey, at in sent if journey == journey_id],
    )


def _sent(customer_id: int, since: datetime) -> Iterable[tuple[int, datetime]]:
    return db.session.execute(
        select(JourneyStepLog.journey_id, JourneyStepLog.at).where(
            JourneyStepLog.customer_id == customer_id,
            JourneyStepLog.outcome == "sent",
            JourneyStepLog.at > since,
        )
    ).all()
