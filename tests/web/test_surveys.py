"""Survey pages: the builder and results under /admin (scoped to the workspace), and the
participant's phone-first survey page reached by their signed link."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import Campaign, Participation, SurveyResponse
from referral.models.base import utcnow
from referral.services import survey_builder, surveys
from referral.services.advocates import advocate_token
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.conftest import csrf_from
from tests.factories import Factory


def build(campaign: Campaign, anonymous: bool = False) -> None:
    survey_builder.add_question(
        campaign,
        {"kind": "single", "prompt": "Roast?", "required": True, "options": ["Light", "Dark"]},
    )
    survey_builder.add_question(
        campaign, {"kind": "multiple", "prompt": "When?", "options": ["Morning", "Noon"]}
    )
    survey_builder.add_question(
        campaign, {"kind": "nps", "prompt": "Recommend us?", "required": True}
    )
    survey_builder.add_question(campaign, {"kind": "short_text", "prompt": "One word?"})
    survey_builder.update_settings(campaign, {"anonymous": anonymous})


def person(factory: Factory, campaign: Campaign) -> Participation:
    return factory.participation(campaign, status="confirmed", confirmed_at=utcnow())


def form_for(campaign: Campaign, text: str = "fine") -> dict[str, str | list[str]]:
    single, multiple, nps_q, short = surveys.survey_of(campaign).questions
    return {
        f"q{single.id}": str(single.options[0].id),
        f"q{multiple.id}": [str(o.id) for o in multiple.options],
        f"q{nps_q.id}": "9",
        f"q{short.id}": text,
    }


def responses() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


@pytest.fixture
def owned(login_as, factory: Factory) -> Campaign:
    _marketer, workspace = login_as("owner")
    return factory.campaign(workspace=workspace, kind="survey", status="live")


# --- the builder ---------------------------------------------------------------------------


def test_a_marketer_builds_a_survey_in_the_admin(browser, owned: Campaign) -> None:
    page = f"/admin/campaigns/{owned.id}/survey"
    assert browser.client.get(page).status_code == 200
    added = browser.post(
        f"{page}/questions",
        {"kind": "single", "prompt": "Roast?", "required": "y", "options": "Light\nDark\n"},
        form_page=page,
    )
    assert added.status_code == 302
    browser.post(f"{page}/questions", {"kind": "nps", "prompt": "Recommend?"}, form_page=page)
    shown = browser.client.get(page).get_data(as_text=True)
    assert shown.index("Roast?") < shown.index("Recommend?")
    assert "Light" in shown and "Dark" in shown
    second = surveys.survey_of(owned).questions[1]
    browser.post(f"{page}/questions/{second.id}/up", form_page=page)
    db.session.expire_all()
    assert surveys.survey_of(owned).questions[0].id == second.id
    saved = browser.post(f"{page}/settings", {"quota": "100", "anonymous": "y"}, form_page=page)
    assert saved.status_code == 302
    db.session.expire_all()
    found = surveys.survey_of(owned)
    assert (found.quota, found.anonymous) == (100, True)


def test_an_invalid_question_re_renders_the_builder_with_the_reason(browser, owned) -> None:
    page = f"/admin/campaigns/{owned.id}/survey"
    refused = browser.post(
        f"{page}/questions", {"kind": "single", "prompt": "Pick", "options": "only one"}, page
    )
    assert refused.status_code == 422
    assert "Give 2 to 20 options, one per line." in refused.get_data(as_text=True)
    assert surveys.survey_of(owned) is None or not surveys.survey_of(owned).questions


def test_a_viewer_reads_the_builder_but_cannot_change_it(login_as, browser, factory) -> None:
    _marketer, workspace = login_as("viewer")
    campaign = factory.campaign(workspace=workspace, kind="survey")
    page = f"/admin/campaigns/{campaign.id}/survey"
    assert browser.client.get(page).status_code == 200
    refused = browser.post(f"{page}/questions", {"kind": "nps", "prompt": "Hm?"}, page)
    assert refused.status_code == 403


def test_a_campaign_that_is_no_survey_has_no_survey_pages(browser, login_as, factory) -> None:
    _marketer, workspace = login_as("owner")
    campaign = factory.campaign(workspace=workspace, kind="referral")
    assert browser.client.get(f"/admin/campaigns/{campaign.id}/survey").status_code == 404


def test_another_workspaces_survey_routes_answer_404(browser, login_as, factory) -> None:
    """Can a marketer of workspace B reach the survey of a campaign of workspace A?"""
    login_as("owner")
    theirs = factory.campaign(kind="survey", status="live")
    build(theirs)
    question = surveys.survey_of(theirs).questions[0]
    base = f"/admin/campaigns/{theirs.id}/survey"
    for path in (
        base,
        f"{base}/results",
        f"{base}/export.csv",
        f"{base}/questions/{question.id}/chart.svg",
    ):
        assert browser.client.get(path).status_code == 404, path
    for path in (
        f"{base}/settings",
        f"{base}/questions",
        f"{base}/questions/{question.id}/up",
        f"{base}/questions/{question.id}/down",
        f"{base}/questions/{question.id}/delete",
    ):
        assert browser.post(path, {"kind": "nps", "prompt": "X"}).status_code == 404, path
    db.session.expire_all()
    assert len(surveys.survey_of(theirs).questions) == 4


def test_a_question_of_another_survey_answers_404_in_ones_own_campaign(
    browser, owned: Campaign, factory
) -> None:
    build(owned)
    other = factory.campaign(kind="survey")
    build(other)
    foreign = surveys.survey_of(other).questions[0]
    base = f"/admin/campaigns/{owned.id}/survey"
    assert browser.client.get(f"{base}/questions/{foreign.id}/chart.svg").status_code == 404
    assert browser.post(f"{base}/questions/{foreign.id}/delete", form_page=base).status_code == 404


def test_results_show_counts_the_nps_and_charts(browser, owned: Campaign, factory) -> None:
    build(owned)
    for _ in range(3):
        surveys.submit_response(
            person(factory, owned),
            {k: v if isinstance(v, list) else [v] for k, v in form_for(owned).items()},
        )
    shown = browser.client.get(f"/admin/campaigns/{owned.id}/survey/results")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    nps_q = surveys.survey_of(owned).questions[2]
    assert re.search(
        rf'data-testid="nps-{nps_q.id}".*?<strong class="nps-score">100\.0<', html, re.S
    )
    chart = browser.client.get(f"/admin/campaigns/{owned.id}/survey/questions/{nps_q.id}/chart.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert b"<script" not in chart.data


def test_the_export_downloads_neutralised_csv(browser, owned: Campaign, factory) -> None:
    build(owned)
    form = {k: v if isinstance(v, list) else [v] for k, v in form_for(owned, "=SUM(A1)").items()}
    surveys.submit_response(person(factory, owned), form)
    got = browser.client.get(f"/admin/campaigns/{owned.id}/survey/export.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True))))
    assert rows[1][-1] == "'=SUM(A1)"
    assert rows[1][6] == "Light" and rows[1][7] == "Morning; Noon"


def test_anonymous_results_and_export_name_nobody(browser, owned: Campaign, factory) -> None:
    build(owned, anonymous=True)
    participant = person(factory, owned)
    form = {k: v if isinstance(v, list) else [v] for k, v in form_for(owned).items()}
    surveys.submit_response(participant, form)
    email = participant.customer.email_display
    export = browser.client.get(f"/admin/campaigns/{owned.id}/survey/export.csv").get_data(
        as_text=True
    )
    results = browser.client.get(f"/admin/campaigns/{owned.id}/survey/results").get_data(
        as_text=True
    )
    assert email not in export and email not in results
    assert "email" not in export.splitlines()[0]


# --- the participant's page --------------------------------------------------------------


@pytest.fixture
def live(factory: Factory) -> Campaign:
    campaign = factory.campaign(kind="survey", status="live", slug="taste")
    build(campaign)
    return campaign


def test_a_participant_answers_and_sees_the_thank_you(client, factory, live) -> None:
    token = surveys.survey_token(person(factory, live))
    shown = client.get(f"/s/{token}")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "private, no-store"
    data = {"csrf_token": csrf_from(shown.get_data(as_text=True)), **form_for(live)}
    sent = client.post(f"/s/{token}", data=data)
    assert sent.status_code == 303
    done = client.get(sent.headers["Location"])
    assert "Thank you for your answers!" in done.get_data(as_text=True)
    assert responses() == 1
    again = client.post(f"/s/{token}", data=data)
    assert again.status_code == 409
    assert responses() == 1


def test_an_option_of_another_question_re_renders_the_form_and_stores_nothing(
    client, factory, live
) -> None:
    token = surveys.survey_token(person(factory, live))
    shown = client.get(f"/s/{token}").get_data(as_text=True)
    single, multiple, *_ = surveys.survey_of(live).questions
    data = {"csrf_token": csrf_from(shown), **form_for(live, "kept")}
    data[f"q{single.id}"] = str(multiple.options[0].id)
    refused = client.post(f"/s/{token}", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="q{single.id}-error"' in html
    assert "Choose one of the options of this question." in html
    assert 'value="kept"' in html  # what was typed stays
    assert responses() == 0


def test_a_missing_required_answer_is_named_at_its_question(client, factory, live) -> None:
    token = surveys.survey_token(person(factory, live))
    shown = client.get(f"/s/{token}").get_data(as_text=True)
    refused = client.post(f"/s/{token}", data={"csrf_token": csrf_from(shown)})
    assert refused.status_code == 422
    assert refused.get_data(as_text=True).count("Please answer this question.") == 2
    assert responses() == 0


def test_a_forged_or_altered_link_answers_404(client, factory, live) -> None:
    token = surveys.survey_token(person(factory, live))
    assert client.get(f"/s/{token}x").status_code == 404
    assert client.get("/s/nonsense").status_code == 404


def test_a_pending_participant_is_asked_to_confirm_first(client, factory, live) -> None:
    token = surveys.survey_token(factory.participation(live))
    shown = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Please confirm your e-mail address first" in shown
    assert 'class="survey-form"' not in shown


def test_the_thank_you_and_advocate_pages_link_to_the_survey(client, live) -> None:
    result = join_campaign(live, JoinRequest(email="ann@example.com"), Visitor())
    page = client.get(f"/confirm/{result.token}").get_data(as_text=True)
    participant = db.session.get(Participation, result.participation.id)
    link = f'href="/s/{surveys.survey_token(participant)}"'
    assert link in page
    assert link in client.get(f"/me/{advocate_token(participant)}").get_data(as_text=True)


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_customer_timeline_shows_answers_unless_the_survey_is_anonymous(
    browser, owned: Campaign, factory, anonymous: bool
) -> None:
    build(owned, anonymous=anonymous)
    participant = person(factory, owned)
    form = {k: v if isinstance(v, list) else [v] for k, v in form_for(owned, "Smooth").items()}
    surveys.submit_response(participant, form)
    page = browser.client.get(f"/admin/customers/{participant.customer_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="event-survey_completed"' in html
    assert ("One word?: Smooth" in html) is not anonymous
    assert ("Roast?: Light" in html) is not anonymous
