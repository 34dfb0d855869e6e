"""Survey campaigns: the builder, one response per participant, its reward and timeline
event, quotas, results with the NPS, the export and anonymous surveys."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from referral.domain.errors import Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Event,
    LedgerEntry,
    Participation,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)
from referral.models.base import utcnow
from referral.services import survey_builder, survey_results, surveys
from referral.services.events import report_event
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import Factory


@pytest.fixture
def campaign(factory: Factory) -> Campaign:
    return factory.campaign(kind="survey", status="live")


def build(campaign: Campaign, anonymous: bool = False, quota: int | None = None) -> Survey:
    survey_builder.add_question(
        campaign,
        {"kind": "single", "prompt": "Roast?", "required": True, "options": ["Light", "Dark"]},
    )
    survey_builder.add_question(
        campaign,
        {"kind": "multiple", "prompt": "When?", "required": False, "options": ["Morning", "Noon"]},
    )
    survey_builder.add_question(
        campaign, {"kind": "nps", "prompt": "Recommend us?", "required": True}
    )
    survey_builder.add_question(campaign, {"kind": "long_text", "prompt": "Anything else?"})
    survey_builder.update_settings(campaign, {"anonymous": anonymous, "quota": quota})
    found = surveys.survey_of(campaign)
    assert found is not None
    return found


def person(factory: Factory, campaign: Campaign, **kw) -> Participation:
    kw.setdefault("status", "confirmed")
    kw.setdefault("confirmed_at", utcnow())
    return factory.participation(campaign, **kw)


def answers(survey: Survey, roast: int = 0, score: int = 9, text: str = "") -> dict[str, list[str]]:
    single, multiple, nps_q, long_text = survey.questions
    return {
        f"q{single.id}": [str(single.options[roast].id)],
        f"q{multiple.id}": [str(o.id) for o in multiple.options],
        f"q{nps_q.id}": [str(score)],
        f"q{long_text.id}": [text],
    }


def count(model: type, *where) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- the builder -------------------------------------------------------------------------


def test_the_builder_appends_orders_and_deletes_questions(campaign: Campaign) -> None:
    survey = build(campaign)
    first, second, third, fourth = survey.questions
    assert [q.kind for q in survey.questions] == ["single", "multiple", "nps", "long_text"]
    assert [o.label for o in first.options] == ["Light", "Dark"]
    assert fourth.required is False
    survey_builder.move_question(survey, third, -1)
    survey_builder.move_question(survey, first, -1)  # already on top: nothing changes
    db.session.expire_all()
    survey = surveys.survey_of(campaign)
    assert [q.id for q in survey.questions] == [first.id, third.id, second.id, fourth.id]
    survey_builder.delete_question(survey, survey_builder.get_question(survey, second.id))
    db.session.expire_all()
    assert [q.id for q in surveys.survey_of(campaign).questions] == [first.id, third.id, fourth.id]


def test_the_builder_refuses_an_invalid_question_and_stores_nothing(campaign: Campaign) -> None:
    with pytest.raises(ValidationFailed) as caught:
        survey_builder.add_question(
            campaign, {"kind": "single", "prompt": "Pick", "options": ["one"]}
        )
    assert "options" in caught.value.errors
    db.session.rollback()
    assert surveys.survey_of(campaign) is None


def test_a_campaign_that_is_no_survey_has_no_builder(factory: Factory) -> None:
    other = factory.campaign(kind="referral")
    with pytest.raises(NotFound):
        survey_builder.add_question(other, {"kind": "nps", "prompt": "Recommend?"})


def test_a_question_of_another_survey_is_not_found(factory: Factory, campaign: Campaign) -> None:
    survey = build(campaign)
    other = build(factory.campaign(kind="survey", workspace=None))
    with pytest.raises(NotFound):
        survey_builder.get_question(survey, other.questions[0].id)


def test_questions_and_anonymity_are_fixed_once_a_response_is_in(
    factory: Factory, campaign: Campaign
) -> None:
    survey = build(campaign)
    surveys.submit_response(person(factory, campaign), answers(survey))
    with pytest.raises(Conflict):
        survey_builder.add_question(campaign, {"kind": "nps", "prompt": "Again?"})
    db.session.rollback()
    with pytest.raises(Conflict):
        survey_builder.delete_question(survey, survey.questions[0])
    db.session.rollback()
    with pytest.raises(ValidationFailed) as caught:
        survey_builder.update_settings(campaign, {"anonymous": True})
    assert "anonymous" in caught.value.errors
    with pytest.raises(ValidationFailed):
        survey_builder.update_settings(campaign, {"quota": 0})


# --- taking responses --------------------------------------------------------------------


def test_a_response_is_stored_with_its_event_on_the_timeline_and_its_reward_paid_once(
    factory: Factory, campaign: Campaign
) -> None:
    add_rule(campaign, {"event": "survey_completed", "level": 0, "reward": "points", "amount": 50})
    survey = build(campaign)
    participant = person(factory, campaign)
    done = surveys.submit_response(participant, answers(survey, roast=1, score=10, text="Great"))
    assert done.response.participation_id == participant.id
    assert [(r.reward, r.amount, r.participation_id) for r in done.rewards] == [
        ("points", 50, participant.id)
    ]
    event = db.session.scalars(select(Event).where(Event.kind == "survey_completed")).one()
    assert event.customer_id == participant.customer_id
    assert event.data["answers"] == [
        {"question": "Roast?", "answer": ["Dark"]},
        {"question": "When?", "answer": ["Morning", "Noon"]},
        {"question": "Recommend us?", "answer": 10},
        {"question": "Anything else?", "answer": "Great"},
    ]
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.submit_response(participant, answers(survey))
    db.session.rollback()
    assert count(SurveyResponse) == 1
    assert count(LedgerEntry) == 1
    assert surveys.link_token(participant) is None  # answered: no more link to offer


def test_one_response_per_participant_under_twenty_concurrent_submits(
    app, factory: Factory, campaign: Campaign
) -> None:
    add_rule(campaign, {"event": "survey_completed", "level": 0, "reward": "points", "amount": 50})
    survey = build(campaign)
    form, pid = answers(survey), person(factory, campaign).id

    def work(_i: int) -> None:
        surveys.submit_response(db.session.get(Participation, pid), form)

    errors = race(app, 20, work)
    assert all(isinstance(e, surveys.AlreadyAnswered) for e in errors), errors
    assert len(errors) == 19
    db.session.rollback()  # end the test's own read snapshot before counting
    assert count(SurveyResponse) == 1
    assert count(Event, Event.kind == "survey_completed") == 1
    assert count(LedgerEntry) == 1


def test_a_quota_holds_under_concurrent_submits_of_different_participants(
    app, factory: Factory, campaign: Campaign
) -> None:
    survey = build(campaign, quota=3)
    form = answers(survey)
    ids = [person(factory, campaign).id for _ in range(8)]

    def work(i: int) -> None:
        surveys.submit_response(db.session.get(Participation, ids[i]), form)

    errors = race(app, 8, work)
    assert len(errors) == 5 and all(isinstance(e, surveys.SurveyClosed) for e in errors), errors
    db.session.rollback()
    assert count(SurveyResponse) == 3
    assert db.session.get(Campaign, campaign.id).status == "closed"


def test_an_option_of_another_question_is_refused_and_nothing_is_stored(
    factory: Factory, campaign: Campaign
) -> None:
    add_rule(campaign, {"event": "survey_completed", "level": 0, "reward": "points", "amount": 50})
    survey = build(campaign)
    form = answers(survey)
    single, multiple = survey.questions[0], survey.questions[1]
    form[f"q{single.id}"] = [str(multiple.options[0].id)]
    with pytest.raises(ValidationFailed) as caught:
        surveys.submit_response(person(factory, campaign), form)
    assert list(caught.value.errors) == [f"q{single.id}"]
    db.session.rollback()
    assert count(SurveyResponse) == count(SurveyAnswer) == count(LedgerEntry) == 0
    assert count(Event, Event.kind == "survey_completed") == 0


def test_the_quota_closes_the_survey_and_its_campaign(factory: Factory, campaign: Campaign) -> None:
    survey = build(campaign, quota=2)
    surveys.submit_response(person(factory, campaign), answers(survey))
    assert surveys.survey_of(campaign).closed_at is None
    surveys.submit_response(person(factory, campaign), answers(survey))
    db.session.expire_all()
    assert surveys.survey_of(campaign).closed_at is not None
    assert db.session.get(Campaign, campaign.id).status == "closed"
    late = person(factory, campaign)
    assert surveys.state(late).status == "closed"
    assert surveys.link_token(late) is None  # no link to a closed survey
    with pytest.raises(surveys.SurveyClosed):
        surveys.submit_response(late, answers(survey))
    db.session.rollback()
    assert count(SurveyResponse) == 2


def test_only_confirmed_participants_answer(factory: Factory, campaign: Campaign) -> None:
    survey = build(campaign)
    pending = factory.participation(campaign)
    assert surveys.state(pending).status == "unconfirmed"
    with pytest.raises(Conflict):
        surveys.submit_response(pending, answers(survey))
    db.session.rollback()
    rejected = person(factory, campaign, status="rejected")
    with pytest.raises(NotFound):
        surveys.from_token(surveys.survey_token(rejected))
    assert count(SurveyResponse) == 0


def test_a_token_names_its_participant_and_cannot_be_altered(
    factory: Factory, campaign: Campaign
) -> None:
    build(campaign)
    participant = person(factory, campaign)
    token = surveys.survey_token(participant)
    assert surveys.from_token(token).id == participant.id
    with pytest.raises(NotFound):
        surveys.from_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


# --- results, export, anonymity ----------------------------------------------------------


def test_results_count_each_option_and_compute_the_nps(
    factory: Factory, campaign: Campaign
) -> None:
    survey = build(campaign)
    for roast, score in ((0, 10), (0, 9), (1, 8), (0, 3)):
        surveys.submit_response(person(factory, campaign), answers(survey, roast, score, "ok"))
    found = survey_results.results(survey)
    assert found.responses == 4
    single, multiple, nps_q, text = (r for _q, r in found.questions)
    assert list(single.counts.values()) == [3, 1]
    assert list(multiple.counts.values()) == [4, 4]
    assert nps_q.nps.score == 25.0 and nps_q.mean == 7.5  # (2 - 1) / 4
    assert text.texts == ["ok"] * 4
    svg = survey_results.chart_svg(survey.questions[2], nps_q, "No answers yet")
    assert svg.startswith("<svg") and "<script" not in svg


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_the_csv_export_neutralises_formulas(
    factory: Factory, campaign: Campaign, prefix: str
) -> None:
    survey = build(campaign)
    evil = f'{prefix}HYPERLINK("http://x")'
    participant = person(factory, campaign)
    surveys.submit_response(participant, answers(survey, text=evil))
    rows = list(csv.reader(io.StringIO(survey_results.export_csv(campaign, survey, None).decode())))
    assert rows[0][:6] == [
        "response_id",
        "submitted_at",
        "participation_id",
        "customer_id",
        "email",
        "name",
    ]
    assert rows[1][-1] == "'" + evil
    assert rows[1][2] == str(participant.id)
    assert count(AuditEntry, AuditEntry.action == "export.survey") == 1


def test_an_anonymous_survey_keeps_answers_apart_from_the_person(
    factory: Factory, campaign: Campaign
) -> None:
    survey = build(campaign, anonymous=True)
    participant = person(factory, campaign)
    done = surveys.submit_response(participant, answers(survey, text="secret opinion"))
    assert done.response.participation_id is None
    assert len(done.response.respondent) == 64  # a keyed hash, not the participant's id
    assert (done.response.created_at.minute, done.response.created_at.second) == (0, 0)
    event = db.session.scalars(select(Event).where(Event.kind == "survey_completed")).one()
    assert event.data == {"survey_id": survey.id, "anonymous": True}
    assert "secret opinion" not in str(event.data)
    header, row = csv.reader(
        io.StringIO(survey_results.export_csv(campaign, survey, None).decode())
    )
    assert "email" not in header and "participation_id" not in header
    assert len(row) == len(header) == 2 + 4  # response id, time, four answers
    assert row[-1] == "secret opinion"
    assert survey_results.results(survey).questions[0][1].answered == 1
    with pytest.raises(surveys.AlreadyAnswered):  # still one response per participant
        surveys.submit_response(participant, answers(survey))


def test_the_demo_seeds_a_survey_with_answers_once(app) -> None:
    from referral.demo.seed import seed_demo

    seed_demo(participants=40)
    campaign = db.session.scalars(
        select(Campaign).where(Campaign.slug == "demo-taste-survey")
    ).one()
    survey = surveys.survey_of(campaign)
    first = survey_results.results(survey)
    assert first.responses == 40
    assert first.questions[3][1].nps.total == 40
    assert count(LedgerEntry, LedgerEntry.amount == 25) == 40  # the completion reward, paid
    seed_demo(participants=40)
    assert count(SurveyResponse) == 40
    assert count(Survey) == 1


def test_a_completion_reported_by_the_api_and_by_the_survey_pays_once(
    factory: Factory, campaign: Campaign
) -> None:
    add_rule(campaign, {"event": "survey_completed", "level": 0, "reward": "points", "amount": 50})
    survey = build(campaign)
    first, second = person(factory, campaign), person(factory, campaign)

    surveys.submit_response(first, answers(survey))
    again = report_event(campaign, first, "survey_completed", external_id="crm-1")
    assert not again.created

    reported = report_event(campaign, second, "survey_completed", external_id="crm-2")
    assert reported.created and len(reported.rewards) == 1
    done = surveys.submit_response(second, answers(survey))
    assert done.rewards == [] and done.event.id == reported.event.id
    assert count(SurveyResponse) == 2
    assert count(Event, Event.kind == "survey_completed") == 2
    assert count(LedgerEntry) == 2  # one payment per person, not two
