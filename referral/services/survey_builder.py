"""The marketer's survey builder: settings and questions, fixed once responses are in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from referral.domain import surveys as rules
from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Survey, SurveyOption, SurveyQuestion
from referral.services.surveys import ensure_kind, response_count, survey_of
from referral.services.tx import atomic


def ensure_survey(campaign: Campaign) -> Survey:
    """The campaign's survey, created (empty) when missing; race-safe by the unique key.

    :raise NotFound: for a campaign that is no survey.
    """
    ensure_kind(campaign)
    found = survey_of(campaign)
    if found is not None:
        return found
    created = Survey(workspace_id=campaign.workspace_id, campaign_id=campaign.id)
    try:
        with db.session.begin_nested():
            db.session.add(created)
    except IntegrityError:
        found = survey_of(campaign)
        assert found is not None
        return found
    return created


def _check_editable(survey: Survey) -> None:
    """Answers refer to the questions as they were asked: once the first response is in,
    changing them would change what people answered."""
    if response_count(survey):
        raise Conflict(N_("The questions are fixed once the first response is in."))


@atomic
def update_settings(campaign: Campaign, data: dict[str, Any]) -> Survey:
    """Save ``anonymous``, ``quota`` (None: no quota) and ``intro``.

    The anonymity of a survey with responses cannot change (they were given under its
    promise), and a quota cannot be below the responses already in.

    :raise NotFound: no survey campaign.  :raise ValidationFailed: bad fields.
    """
    survey = ensure_survey(campaign)
    anonymous, quota, intro = rules.clean_settings(
        bool(data.get("anonymous")), data.get("quota"), str(data.get("intro") or "")
    )
    count = response_count(survey)
    if count and anonymous != survey.anonymous:
        raise ValidationFailed.on(
            "anonymous", N_("Answers were given under this setting: it cannot change now.")
        )
    if quota is not None and quota < count:
        raise ValidationFailed.on(
            "quota",
            N_("Responses already in: %(count)s. The quota cannot be lower."),
            {"count": count},
        )
    survey.anonymous, survey.quota, survey.intro = anonymous, quota, intro
    return survey


@atomic
def add_question(campaign: Campaign, data: dict[str, Any]) -> SurveyQuestion:
    """Append a question (``kind``, ``prompt``, ``required``, ``options`` as a list).

    :raise ValidationFailed: an invalid question or too many.  :raise Conflict: responses
        are in.  :raise NotFound: no survey campaign.
    """
    ensure_kind(campaign)
    draft = rules.clean_question(
        str(data.get("kind") or ""),
        str(data.get("prompt") or ""),
        bool(data.get("required")),
        [str(o) for o in data.get("options") or []],
    )
    survey = ensure_survey(campaign)
    _check_editable(survey)
    if len(survey.questions) >= rules.QUESTIONS_MAX:
        raise ValidationFailed.on(
            "prompt", N_("A survey has at most %(max)s questions."), {"max": rules.QUESTIONS_MAX}
        )
    position = max((q.position for q in survey.questions), default=0) + 1
    question = SurveyQuestion(
        survey=survey,
        position=position,
        kind=draft.kind,
        prompt=draft.prompt,
        required=draft.required,
        options=[SurveyOption(position=i, label=label) for i, label in enumerate(draft.options)],
    )
    db.session.add(question)
    return question


def get_question(survey: Survey | None, question_id: object) -> SurveyQuestion:
    """:raise NotFound: for a question of another survey, as for one that does not exist."""
    found = (
        next((q for q in survey.questions if str(q.id) == str(question_id)), None)
        if survey
        else None
    )
    if found is None:
        raise NotFound(N_("No such question."))
    return found


@atomic
def move_question(survey: Survey, question: SurveyQuestion, step: int) -> None:
    """Swap the question with its neighbour above (``step`` -1) or below (+1); at the
    top or bottom nothing changes. :raise Conflict: responses are in."""
    _check_editable(survey)
    ordered = list(survey.questions)
    index = ordered.index(question)
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(ordered):
        for position, item in enumerate(ordered, start=1):
            item.position = position
        ordered[index].position, ordered[other].position = other + 1, index + 1


@atomic
def delete_question(survey: Survey, question: SurveyQuestion) -> None:
    """:raise Conflict: responses are in."""
    _check_editable(survey)
    survey.questions.remove(question)
