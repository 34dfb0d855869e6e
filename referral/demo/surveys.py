"""The demo's survey: questions of every kind and a few hundred answers from the people of
the demo's referral campaign. Idempotent: a campaign that has its survey is left alone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from referral.demo.rows import all_flushed
from referral.domain.codes import new_code
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    Event,
    Participation,
    RewardRule,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from referral.services import surveys
from referral.services.events import record_event
from referral.services.rewards import pay_for_event

SLUG = "demo-taste-survey"
QUESTIONS = [
    ("single", "How do you brew coffee at home?", True,
     ["Espresso machine", "Filter", "French press", "Capsules", "Instant"]),
    ("multiple", "When do you drink coffee?", True,
     ["Morning", "Lunch", "Afternoon", "Evening"]),
    ("rating", "How do you rate our beans?", True, []),
    ("nps", "How likely are you to recommend us to a friend?", True, []),
    ("long_text", "Which coffee should we roast next?", False, []),
]  # fmt: skip
WISHES = ["A darker espresso", "Decaf please!", "Ethiopian Yirgacheffe", "More single origins"]


def _build(campaign: Campaign) -> Survey:
    survey = Survey(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        intro="Five quick questions; a tasting box to win and 25 points for every answer.",
        quota=1000,
    )
    for position, (kind, prompt, required, options) in enumerate(QUESTIONS, start=1):
        survey.questions.append(
            SurveyQuestion(
                position=position,
                kind=kind,
                prompt=prompt,
                required=required,
                options=[SurveyOption(position=i, label=o) for i, o in enumerate(options)],
            )
        )
    db.session.add(survey)
    db.session.add(
        RewardRule(
            campaign_id=campaign.id, event="survey_completed", level=0, reward="points", amount=25
        )
    )
    db.session.flush()
    return survey


def _answers(
    survey: Survey, response: SurveyResponse, rng: random.Random
) -> tuple[list[SurveyAnswer], list[dict[str, object]]]:
    brew, when, rating, nps_q, wish = survey.questions
    picked = rng.choices(brew.options, weights=[35, 30, 15, 15, 5])[0]
    times = [o for o in when.options if rng.random() < (0.9 if o.position == 0 else 0.35)]
    times = times or [when.options[0]]
    stars = rng.choices(range(1, 6), weights=[2, 4, 14, 40, 40])[0]
    score = rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 4, 9, 18, 25, 34])[0]
    rows = [SurveyAnswer(response_id=response.id, question_id=brew.id, option_id=picked.id)]
    rows += [
        SurveyAnswer(response_id=response.id, question_id=when.id, option_id=o.id) for o in times
    ]
    rows += [
        SurveyAnswer(response_id=response.id, question_id=rating.id, number=stars),
        SurveyAnswer(response_id=response.id, question_id=nps_q.id, number=score),
    ]
    shown: list[dict[str, object]] = [
        {"question": brew.prompt, "answer": [picked.label]},
        {"question": when.prompt, "answer": [o.label for o in times]},
        {"question": rating.prompt, "answer": stars},
        {"question": nps_q.prompt, "answer": score},
    ]
    if rng.random() < 0.3:
        text = rng.choice(WISHES)
        rows.append(SurveyAnswer(response_id=response.id, question_id=wish.id, text=text))
        shown.append({"question": wish.prompt, "answer": text})
    return rows, shown


def _participants(
    campaign: Campaign, people: list[Customer], times: list[datetime]
) -> list[Participation]:
    """Each person joined (and confirmed two minutes later) at their time; flushed."""
    nodes = [
        Participation(
            campaign_id=campaign.id,
            customer_id=customer.id,
            referral_code=new_code(),
            status="confirmed",
            created_at=at,
            confirmed_at=at + timedelta(minutes=2),
        )
        for customer, at in zip(people, times, strict=True)
    ]
    return all_flushed(nodes)


def _responses(
    survey: Survey, nodes: list[Participation], times: list[datetime]
) -> list[SurveyResponse]:
    """One response per participant, five minutes after joining; flushed."""
    responses = [
        SurveyResponse(
            survey_id=survey.id,
            respondent=surveys.respondent_key(survey.id, node.id),
            participation_id=node.id,
            created_at=at + timedelta(minutes=5),
        )
        for node, at in zip(nodes, times, strict=True)
    ]
    return all_flushed(responses)


def _completions(
    workspace_id: int,
    survey: Survey,
    nodes: list[Participation],
    responses: list[SurveyResponse],
    rng: random.Random,
) -> list[Event]:
    """The answers of each response, and its ``survey_completed`` event on the timeline."""
    events = []
    for node, response in zip(nodes, responses, strict=True):
        rows, shown = _answers(survey, response, rng)
        db.session.add_all(rows)
        events.append(
            record_event(
                workspace_id,
                node,
                "survey_completed",
                external_id=f"survey:{survey.id}:{node.id}",
                data={"survey_id": survey.id, "answers": shown},
                occurred_at=response.created_at,
            )
        )
    return events


def seed_demo_survey(workspace_id: int, respondents: int = 300) -> int:
    """Give the demo's survey campaign its questions and ``respondents`` answers from the
    workspace's first customers. Returns the number of responses added (0 when the survey
    was there already, or the demo has no survey campaign)."""
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.slug == SLUG)
    )
    if campaign is None or campaign.kind != "survey" or surveys.survey_of(campaign) is not None:
        return 0
    survey = _build(campaign)
    rng = random.Random(20261126)  # noqa: S311  (demo data, not security)
    start = campaign.starts_at or datetime.now(UTC) - timedelta(weeks=1)
    people = list(
        db.session.scalars(
            select(Customer).where(Customer.workspace_id == workspace_id).order_by(Customer.id)
        ).all()[:respondents]
    )
    # Few, large flushes: each inserts its rows in batches.
    times = [start + timedelta(minutes=n * 25 + rng.randint(0, 20)) for n in range(len(people))]
    nodes = _participants(campaign, people, times)
    responses = _responses(survey, nodes, times)
    events = _completions(workspace_id, survey, nodes, responses, rng)
    db.session.flush()
    for node, event in zip(nodes, events, strict=True):
        pay_for_event(event, node, campaign)
    db.session.commit()
    return len(people)
