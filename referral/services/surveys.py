"""Survey campaigns: the participant's signed link, and taking one response per participant
(with its reward, its timeline event and the quota). The builder is ``survey_builder``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from referral.domain import surveys as rules
from referral.domain.errors import N_, Conflict, NotFound
from referral.extensions import db
from referral.hashing import keyed_hash
from referral.models import (
    Campaign,
    Event,
    LedgerEntry,
    Participation,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from referral.models.base import utcnow
from referral.services.events import find_event, once_key, record_event
from referral.services.joining import is_open
from referral.services.participant_links import participant_of, participant_token
from referral.services.rewards import pay_for_event
from referral.services.tx import atomic

SALT = "survey-link"
EVENT = "survey_completed"


class AlreadyAnswered(Conflict):
    """The participant has answered this survey before."""


class SurveyClosed(Conflict):
    """The survey takes no responses: the campaign is not open or the quota is full."""


# --- the survey of a campaign ----------------------------------------------------------


def survey_of(campaign: Campaign) -> Survey | None:
    """The campaign's survey, None until the builder first saved something."""
    return db.session.scalar(
        select(Survey)
        .where(Survey.campaign_id == campaign.id)
        .options(selectinload(Survey.questions).selectinload(SurveyQuestion.options))
    )


def ensure_kind(campaign: Campaign) -> None:
    """:raise NotFound: for a campaign that is no survey (it has no survey pages)."""
    if campaign.kind != "survey":
        raise NotFound(N_("This campaign has no survey."))


def response_count(survey: Survey | None) -> int:
    if survey is None:
        return 0
    count = db.session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
    )
    return int(count or 0)


# --- the participant's link ----------------------------------------------------------------


def survey_token(participation: Participation) -> str:
    """The signed part of a participant's survey address: it names them, so it is signed."""
    return participant_token(participation, SALT)


def from_token(token: str) -> Participation:
    """:raise NotFound: for a forged, altered or stale token, or a rejected participant."""
    return participant_of(token, SALT)


def link_token(participation: Participation) -> str | None:
    """The survey token to offer a participant (thank-you and advocate pages): only in an
    open survey campaign whose survey has questions and that they have not answered yet."""
    campaign = db.session.get(Campaign, participation.campaign_id)
    if campaign is None or campaign.kind != "survey":
        return None
    survey = survey_of(campaign)
    if survey is None or not survey.questions or survey.closed_at is not None:
        return None
    if not is_open(campaign) or _answered(survey, participation):
        return None
    return survey_token(participation)


def respondent_key(survey_id: int, participation_id: int) -> str:
    """The keyed hash that stands for a participant in a survey's responses."""
    return keyed_hash(
        current_app.config["SECRET_KEY"], f"{survey_id}:{participation_id}", "survey-respondent"
    )


def _respondent(survey: Survey, participation: Participation) -> str:
    return respondent_key(survey.id, participation.id)


def _answered(survey: Survey, participation: Participation) -> bool:
    found = db.session.scalar(
        select(SurveyResponse.id).where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.respondent == _respondent(survey, participation),
        )
    )
    return found is not None


@dataclass
class SurveyState:
    """What a participant's survey page shows: ``status`` is ``open``, ``answered``,
    ``closed`` or ``unconfirmed`` (they must confirm their e-mail address first)."""

    campaign: Campaign
    survey: Survey | None
    status: str


def state(participation: Participation) -> SurveyState:
    """:raise NotFound: when the participant's campaign has no survey with questions."""
    campaign = db.session.get(Campaign, participation.campaign_id)
    assert campaign is not None
    survey = survey_of(campaign) if campaign.kind == "survey" else None
    if survey is None or not survey.questions or campaign.status == "draft":
        raise NotFound(N_("This campaign has no survey."))
    if _answered(survey, participation):
        return SurveyState(campaign, survey, "answered")
    if not is_open(campaign) or survey.closed_at is not None:
        return SurveyState(campaign, survey, "closed")
    if participation.confirmed_at is None:
        return SurveyState(campaign, survey, "unconfirmed")
    return SurveyState(campaign, survey, "open")


def specs(survey: Survey) -> list[rules.QuestionSpec]:
    return [
        rules.QuestionSpec(q.id, q.kind, q.required, tuple(o.id for o in q.options))
        for q in survey.questions
    ]


# --- taking a response ----------------------------------------------------------------------


@dataclass
class Submitted:
    response: SurveyResponse
    event: Event
    rewards: list[LedgerEntry] = field(default_factory=list)


def _locked_survey(campaign: Campaign) -> Survey:
    """The survey, its row locked (PostgreSQL) so that responses are counted against the
    quota one at a time. SQLite has one writer at a time anyway."""
    found = db.session.scalar(
        select(Survey).where(Survey.campaign_id == campaign.id).with_for_update()
    )
    if found is None or not found.questions:
        raise NotFound(N_("This campaign has no survey."))
    return found


def _check_open(campaign: Campaign, survey: Survey, participation: Participation) -> None:
    if participation.status == "rejected":
        raise NotFound(N_("This link is not valid."))
    if participation.confirmed_at is None:
        raise Conflict(N_("Please confirm your e-mail address first."))
    if not is_open(campaign) or survey.closed_at is not None:
        raise SurveyClosed(N_("This survey is closed. Thank you for your interest!"))
    if survey.quota is not None and response_count(survey) >= survey.quota:
        raise SurveyClosed(N_("This survey is closed. Thank you for your interest!"))


def _timeline_data(survey: Survey, answers: list[rules.Answer]) -> dict[str, Any]:
    """What the customer's timeline keeps: the answers in words, or for an anonymous
    survey only that it was completed."""
    if survey.anonymous:
        return {"survey_id": survey.id, "anonymous": True}
    questions = {q.id: q for q in survey.questions}
    shown = []
    for answer in answers:
        question = questions[answer.question_id]
        labels = {o.id: o.label for o in question.options}
        if answer.option_ids:
            value: Any = [labels[i] for i in answer.option_ids]
        else:
            value = answer.number if answer.number is not None else answer.text
        shown.append({"question": question.prompt, "answer": value})
    return {"survey_id": survey.id, "answers": shown}


def _store_answers(response: SurveyResponse, answers: list[rules.Answer]) -> None:
    rows = []
    for answer in answers:
        if answer.option_ids:
            rows += [
                SurveyAnswer(response_id=response.id, question_id=answer.question_id, option_id=o)
                for o in answer.option_ids
            ]
        else:
            rows.append(
                SurveyAnswer(
                    response_id=response.id,
                    question_id=answer.question_id,
                    number=answer.number,
                    text=answer.text,
                )
            )
    db.session.add_all(rows)


def _close_when_full(campaign: Campaign, survey: Survey) -> None:
    if survey.quota is not None and response_count(survey) >= survey.quota:
        now = utcnow()
        survey.closed_at = now
        if campaign.status == "live":
            campaign.status, campaign.closed_at = "closed", now


def _add_response(survey: Survey, participation: Participation) -> SurveyResponse:
    """The response row, one per participant (a unique key, so also under concurrent
    submits). :raise AlreadyAnswered: a response is in already."""
    response = SurveyResponse(
        survey_id=survey.id,
        respondent=_respondent(survey, participation),
        participation_id=None if survey.anonymous else participation.id,
    )
    if survey.anonymous:  # to the hour: the exact time would match the timeline's event
        response.created_at = utcnow().replace(minute=0, second=0, microsecond=0)
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        raise AlreadyAnswered(N_("You have answered this survey already. Thank you!")) from None
    return response


def _completed(
    campaign: Campaign, survey: Survey, participation: Participation, answers: list[rules.Answer]
) -> tuple[Event, list[LedgerEntry]]:
    """The ``survey_completed`` event and the rewards it pays; when the completion was
    reported (and paid) already, by the API, that event and nothing more."""
    key = once_key(EVENT, participation.id)
    data = _timeline_data(survey, answers)
    try:
        with db.session.begin_nested():
            event = record_event(
                campaign.workspace_id, participation, EVENT, external_id=key, data=data
            )
    except IntegrityError:
        reported = find_event(campaign, EVENT, key)
        assert reported is not None  # the completion collided with it
        return reported, []
    return event, pay_for_event(event, participation, campaign)


@atomic
def submit_response(participation: Participation, form: dict[str, list[str]]) -> Submitted:
    """Take a participant's answers: one response, its ``survey_completed`` event on their
    timeline, the rewards the campaign's rules pay for it, all in one transaction.

    At most one response per participant (a unique key, so also under concurrent
    submits). When the quota is reached the survey and its campaign close.

    :raise ValidationFailed: answers that do not fit (nothing is stored).
    :raise AlreadyAnswered: a second response.  :raise SurveyClosed: not open or full.
    :raise Conflict: not confirmed yet.  :raise NotFound: no survey.
    """
    db.session.refresh(participation)
    campaign = db.session.get(Campaign, participation.campaign_id)
    assert campaign is not None
    survey = _locked_survey(campaign)
    if _answered(survey, participation):
        raise AlreadyAnswered(N_("You have answered this survey already. Thank you!"))
    _check_open(campaign, survey, participation)
    answers = rules.parse_answers(specs(survey), form)
    response = _add_response(survey, participation)
    _store_answers(response, answers)
    event, rewards = _completed(campaign, survey, participation, answers)
    _close_when_full(campaign, survey)
    return Submitted(response, event, rewards)
