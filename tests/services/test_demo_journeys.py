"""The demo's journeys: seeded once, valid, their messages in every locale, and run over
the days before the seeding so that they show figures per step."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.demo.journey_messages import MESSAGES
from referral.demo.seed import seed_demo
from referral.domain.campaigns import LOCALES
from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import OutboxMessage, Workspace
from referral.models.journey import Journey, JourneyEnrolment, JourneyStepLog, MessageTemplate
from referral.services.journey_stats import journey_stats
from referral.services.journey_templates import question_keys, save_template
from referral.services.journeys import checked_definition


def counts() -> tuple[int, ...]:
    db.session.commit()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Journey, JourneyEnrolment, JourneyStepLog, MessageTemplate, OutboxMessage)
    )


def test_the_demo_seeds_running_journeys_with_figures_once(app: Flask) -> None:
    seed_demo(participants=400)
    first = counts()
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
    journeys = list(db.session.scalars(select(Journey).order_by(Journey.id)))
    assert len(journeys) == 6 and {j.status for j in journeys} == {"running"}
    for journey in journeys:
        checked_definition(workspace.id, journey.definition)  # raises when not valid
    stats = {journey.name: journey_stats(journey) for journey in journeys}
    assert sum(s["entered"] for s in stats.values()) > 0
    assert sum(s["sent"] for s in stats.values()) > 0
    for name in ("Welcome after confirmation", "Your friend joined", "Survey follow-up"):
        assert stats[name]["entered"] > 0, name
        assert any(step["reached"] for step in stats[name]["steps"]), name
    assert stats["Welcome after confirmation"]["in_progress"] > 0  # some wait at a step
    seed_demo(participants=400)
    assert counts() == first


def test_every_demo_message_is_written_in_the_five_locales(app: Flask) -> None:
    seed_demo(participants=50)
    saved = set(db.session.execute(select(MessageTemplate.key, MessageTemplate.locale)).all())
    assert saved == {(key, locale) for key in MESSAGES for locale in LOCALES}


def test_the_survey_follow_up_quotes_the_customers_own_answer(app: Flask) -> None:
    seed_demo(participants=400)
    journey = db.session.scalar(select(Journey).where(Journey.name == "Survey follow-up"))
    sent = db.session.scalars(
        select(JourneyStepLog).where(
            JourneyStepLog.journey_id == journey.id, JourneyStepLog.outcome == "sent"
        )
    ).all()
    assert sent
    message = db.session.get(OutboxMessage, sent[0].detail["outbox_id"])
    assert "{{" not in message.body_text and "answers" not in message.body_text
    assert message.status == "sent"


def test_a_message_may_quote_a_survey_question_of_its_workspace_and_no_other(app: Flask) -> None:
    seed_demo(participants=50)
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
    known = sorted(question_keys(workspace.id))
    assert known
    save_template(workspace.id, "quote", "en", "Hi", "You said {{ answers." + known[0] + " }}.")
    with pytest.raises(ValidationFailed):
        save_template(workspace.id, "quote", "en", "Hi", "You said {{ answers.q999999 }}.")
