"""A participant answers a survey on a phone: the form names what is missing, then takes
the answers and says thank you."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Event, SurveyResponse
from referral.models.base import utcnow
from referral.services import survey_builder, surveys
from tests.e2e.conftest import LiveServer, assert_clean, page_width
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def test_a_participant_answers_a_survey_on_a_phone_and_sees_the_thank_you(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    campaign = factory.campaign(kind="survey", status="live", name="Taste survey")
    survey_builder.add_question(
        campaign,
        {
            "kind": "single",
            "prompt": "Which roast?",
            "required": True,
            "options": ["Light", "Dark"],
        },
    )
    survey_builder.add_question(
        campaign, {"kind": "rating", "prompt": "Our coffee?", "required": True}
    )
    survey_builder.add_question(
        campaign, {"kind": "nps", "prompt": "Recommend us?", "required": True}
    )
    survey_builder.add_question(campaign, {"kind": "long_text", "prompt": "Anything else?"})
    participant = factory.participation(campaign, status="confirmed", confirmed_at=utcnow())
    token = surveys.survey_token(participant)

    page.goto(live_server(f"/s/{token}"))
    expect(page.locator("h1")).to_have_text("Taste survey")
    # Phone first: nothing wider than the screen.
    assert page_width(page) <= 390

    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator(".form-notice")).to_contain_text("Some answers need your attention.")
    expect(
        page.locator(".error[role=alert]", has_text="Please answer this question.")
    ).to_have_count(3)

    page.get_by_text("Dark", exact=True).click()
    page.locator("fieldset", has_text="Our coffee?").get_by_text("4", exact=True).click()
    page.locator("fieldset", has_text="Recommend us?").get_by_text("10", exact=True).click()
    page.get_by_label("4. Anything else?").fill("Lovely beans")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.locator("h1")).to_have_text("Thank you for your answers!")
    expect(page.get_by_role("link", name="Open my page")).to_be_visible()
    # The first, incomplete form was answered 422 on purpose; Chromium logs that as an error.
    assert_clean([e for e in page_errors if "status of 422" not in e])

    db.session.rollback()  # see the server thread's commits
    assert db.session.scalars(select(SurveyResponse)).one().participation_id == participant.id
    event = db.session.scalars(select(Event).where(Event.kind == "survey_completed")).one()
    assert {"question": "Anything else?", "answer": "Lovely beans"} in event.data["answers"]
    assert {"question": "Which roast?", "answer": ["Dark"]} in event.data["answers"]
