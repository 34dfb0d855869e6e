"""The demo's journeys: six follow-ups a marketer recognises at once, their messages in the
five locales, the consent they need, and two days of them running.

- **Welcome** after confirming, quoting the campaign; a day later a nudge to share,
  unless a friend joined already; the goal is a purchase within two weeks.
- **Your friend joined**, to the advocate. The service records no ``referral_confirmed``
  event yet, so the journey starts on what a friend's confirmation records on the
  advocate's timeline, ``reward_granted`` (the 100 points it pays), and speaks only to
  someone who has a friend (100 points or more).
- **Milestone**: crossing 1,000 points, once (a tag remembers it), with the friends still
  missing for the five-friend bonus.
- **Survey follow-up**: two hours after the taste survey, a message that quotes the answer
  (how they brew, their score, the coffee they wished for), by what they scored.
- **Birthday coupon** (date trigger, the birthday opt-in only).
- **Win-back** after 30 days without an event, with a last reminder a week later.

The journeys went live two days before the seeding: the events of those days enter
them as the event path does (``enrol_for_event`` at the event's time), and the runner and
the date sweep are run over those days on a fixed clock, every six hours, so the
journeys show enrolments at different steps and figures per step. Messages they sent then
are marked as delivered at the time they were written. Idempotent: a workspace that has
journeys is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from referral.demo.journey_messages import MESSAGES
from referral.extensions import db
from referral.models import (
    Campaign,
    ConsentRecord,
    Customer,
    Event,
    OutboxMessage,
    Participation,
    SurveyQuestion,
)
from referral.models.base import utcnow
from referral.models.journey import Journey
from referral.services import journey_occasions, journey_runner, surveys
from referral.services.journey_enrolment import enrol_for_event
from referral.services.journey_templates import save_template
from referral.services.journeys import create_journey

LIVE_FOR = timedelta(days=2)
TICK = timedelta(hours=6)
REFERRAL_SLUG = "demo-coffee-friends"
SURVEY_SLUG = "demo-taste-survey"
MARKETING_TEXT = "Yes, send me news and offers from Demo Coffee Roasters by e-mail."
BIRTHDAY_TEXT = "Send me a birthday treat (only the day and month are stored)."
ZONES = {
    "en": "Europe/London",
    "de": "Europe/Berlin",
    "nl": "Europe/Amsterdam",
    "zh_Hans": "Asia/Shanghai",
    "zh_Hant": "Asia/Taipei",
}


def _send(step_id: str, template: str, **more: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "template": template, **more}


def _exit(step_id: str = "end") -> dict[str, Any]:
    return {"id": step_id, "type": "exit"}


def _points(value: int) -> dict[str, Any]:
    return {"on": "points", "op": "gte", "value": value}


def definitions(questions: dict[str, str]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(name, campaign slug, definition) of each demo journey; ``questions`` names the
    survey's question keys (``brew``, ``nps``, ``wish`` → ``q<id>``)."""
    return [
        (
            "Welcome after confirmation",
            REFERRAL_SLUG,
            {
                "trigger": {"type": "event", "event": "signup_confirmed"},
                "steps": [
                    _send("welcome", "welcome"),
                    {"id": "a_day", "type": "wait", "for": {"days": 1}},
                    {
                        "id": "has_friend",
                        "type": "branch",
                        "cases": [{"when": [_points(100)], "next": "end"}],
                        "else": "nudge",
                    },
                    _send("nudge", "share_nudge"),
                    _exit(),
                ],
                "goal": {"event": "purchase", "within_days": 14},
                "quiet_hours": {"start": "21:00", "end": "08:00"},
            },
        ),
        (
            "Your friend joined",
            REFERRAL_SLUG,
            {
                "trigger": {"type": "event", "event": "reward_granted"},
                "steps": [
                    {
                        "id": "is_advocate",
                        "type": "branch",
                        "cases": [{"when": [_points(100)], "next": "tell"}],
                        "else": "end",
                    },
                    _send("tell", "friend_joined", next="end"),
                    _exit(),
                ],
                "reentry": "every_time",
                "cap": {"limit": 1, "days": 1},
            },
        ),
        (
            "Milestone: 1,000 points",
            REFERRAL_SLUG,
            {
                "trigger": {"type": "event", "event": "reward_granted"},
                "steps": [
                    {
                        "id": "crossed",
                        "type": "branch",
                        "cases": [
                            {
                                "when": [
                                    _points(1000),
                                    {"on": "tag", "op": "lacks", "value": "club-1000"},
                                ],
                                "next": "congratulate",
                            }
                        ],
                        "else": "end",
                    },
                    _send("congratulate", "milestone"),
                    {"id": "remember", "type": "tag", "tag": "club-1000", "next": "end"},
                    _exit(),
                ],
                "reentry": "every_time",
            },
        ),
        (
            "Survey follow-up",
            SURVEY_SLUG,
            {
                "trigger": {"type": "event", "event": "survey_completed"},
                "steps": [
                    {"id": "two_hours", "type": "wait", "for": {"hours": 2}},
                    {
                        "id": "score",
                        "type": "branch",
                        "cases": [
                            {
                                "when": [
                                    {
                                        "on": "survey",
                                        "question": questions["nps"],
                                        "op": "gte",
                                        "value": 9,
                                    }
                                ],
                                "next": "promoter",
                            },
                            {
                                "when": [
                                    {
                                        "on": "survey",
                                        "question": questions["nps"],
                                        "op": "lte",
                                        "value": 6,
                                    }
                                ],
                                "next": "listen",
                            },
                        ],
                        "else": "thanks",
                    },
                    _send("promoter", "survey_promoter", next="end"),
                    _send("listen", "survey_listen", next="end"),
                    _send("thanks", "survey_thanks", next="end"),
                    _exit(),
                ],
            },
        ),
        (
            "Birthday coupon",
            None,
            {
                "trigger": {"type": "date", "date": "birthday", "hour": 9},
                "steps": [_send("coupon", "birthday", topic="birthday"), _exit()],
            },
        ),
        (
            "Win-back after 30 quiet days",
            REFERRAL_SLUG,
            {
                "trigger": {"type": "inactivity", "days": 30},
                "steps": [
                    _send("miss_you", "winback"),
                    {
                        "id": "came_back",
                        "type": "wait_for",
                        "event": "purchase",
                        "timeout": {"days": 7},
                        "next": "won_back",
                        "on_timeout": "last_call",
                    },
                    {"id": "won_back", "type": "tag", "tag": "won-back", "next": "end"},
                    _send("last_call", "winback_last"),
                    _exit(),
                ],
                "goal": {"event": "purchase", "within_days": 14},
            },
        ),
    ]


def _campaigns(workspace_id: int) -> dict[str, Campaign]:
    rows = db.session.scalars(select(Campaign).where(Campaign.workspace_id == workspace_id))
    return {campaign.slug: campaign for campaign in rows}


def _question_keys(campaign: Campaign) -> dict[str, str] | None:
    """``brew``, ``nps`` and ``wish`` of the demo survey as ``q<id>``."""
    survey = surveys.survey_of(campaign)
    if survey is None:
        return None
    by_kind = {
        kind: ident
        for kind, ident in db.session.execute(
            select(SurveyQuestion.kind, SurveyQuestion.id).where(
                SurveyQuestion.survey_id == survey.id
            )
        )
    }
    return {
        "brew": f"q{by_kind['single']}",
        "nps": f"q{by_kind['nps']}",
        "wish": f"q{by_kind['long_text']}",
    }


def _templates(workspace_id: int, questions: dict[str, str]) -> None:
    """Every message in the five locales (saved through the sandbox's checks)."""
    for key, locales in MESSAGES.items():
        for locale, parts in locales.items():
            subject, text = (_keyed(part, questions) for part in parts)
            save_template(workspace_id, key, locale, subject, text)


def _keyed(source: str, questions: dict[str, str]) -> str:
    for name, ident in questions.items():
        source = source.replace(f"answers.{name}", f"answers.{ident}")
    return source


def _consents(workspace_id: int, campaign: Campaign, rng: random.Random) -> None:
    """Three in four customers opted in to marketing when they joined, one in three to a
    birthday treat (day and month); each customer's clock follows their language."""
    rows = db.session.execute(
        select(Customer, func.min(Participation.created_at))
        .join(Participation, Participation.customer_id == Customer.id)
        .where(Customer.workspace_id == workspace_id)
        .group_by(Customer.id)
        .order_by(Customer.id)
    ).all()
    page = f"/c/{campaign.slug}"
    records = []
    for customer, joined in rows:
        customer.timezone = ZONES.get(customer.locale or "en", "Europe/Amsterdam")
        consent = {"customer_id": customer.id, "campaign_id": campaign.id, "page": page}
        if rng.random() < 0.75:
            records.append(
                ConsentRecord(
                    **consent,
                    purpose="marketing",
                    text=MARKETING_TEXT,
                    version="1",
                    given_at=joined,
                )
            )
        if rng.random() < 0.35:
            birthday = datetime(2024, 1, 1) + timedelta(days=rng.randrange(366))
            customer.birthday_month, customer.birthday_day = birthday.month, birthday.day
            records.append(
                ConsentRecord(
                    **consent, purpose="birthday", text=BIRTHDAY_TEXT, version="1", given_at=joined
                )
            )
    db.session.add_all(records)
    db.session.commit()


def _reward_times(workspace_id: int) -> None:
    """A reward is paid when its cause happens: the seeded rewards' events take the time
    of the event that paid them (the cascade pays them all at the moment of seeding)."""
    rows = db.session.execute(
        select(Event.id, Event.data).where(
            Event.workspace_id == workspace_id, Event.kind == "reward_granted"
        )
    ).all()
    sources = {ident: data.get("source_event_id") for ident, data in rows}
    times = dict(
        db.session.execute(
            select(Event.id, Event.occurred_at).where(Event.id.in_(set(sources.values())))
        ).all()
    )
    moved = [
        {"id": ident, "occurred_at": times[source]}
        for ident, source in sources.items()
        if source in times
    ]
    if moved:
        db.session.execute(update(Event), moved)  # by primary key, in batches
    db.session.commit()


def _journeys(workspace_id: int, questions: dict[str, str], since: datetime) -> list[int]:
    campaigns = _campaigns(workspace_id)
    ids = []
    for name, slug, definition in definitions(questions):
        campaign_id = campaigns[slug].id if slug else None
        journey = create_journey(
            workspace_id, name, definition, campaign_id=campaign_id, status="running"
        )
        journey.created_at = journey.updated_at = since
        ids.append(journey.id)
    db.session.commit()
    return ids


def _run(workspace_id: int, since: datetime, until: datetime) -> None:
    """The days since going live on a fixed clock: at each tick, the events since the last one enter
    their journeys, the sweep enters the dates and silences, the runner takes the steps."""
    kinds = ("signup_confirmed", "reward_granted", "survey_completed", "purchase")
    tick = since
    while tick < until:
        following = min(tick + TICK, until)
        events = db.session.scalars(
            select(Event)
            .where(
                Event.workspace_id == workspace_id,
                Event.kind.in_(kinds),
                Event.occurred_at > tick,
                Event.occurred_at <= following,
            )
            .order_by(Event.occurred_at, Event.id)
        ).all()
        for event in events:
            enrol_for_event(event, now=event.occurred_at)
        db.session.commit()
        db.session.expunge_all()  # a small session keeps every commit cheap
        journey_occasions.enrol_occasions(following)
        while journey_runner.run_due(following) >= journey_runner.BATCH:
            pass
        _delivered(workspace_id, following)
        tick = following


def _delivered(workspace_id: int, at: datetime) -> None:
    """The messages of the past days left when they were written."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.workspace_id == workspace_id,
            OutboxMessage.kind.like("journey:%"),
            OutboxMessage.status == "queued",
        )
        .values(status="sent", attempts=1, sent_at=at, created_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def seed_demo_journeys(workspace_id: int, now: datetime | None = None) -> int:
    """Give the demo its journeys, their messages and two days of them running up to
    ``now``; returns how many journeys were added (0 when the workspace has journeys, or
    the demo lacks its referral or survey campaign)."""
    exists = db.session.scalar(select(Journey.id).where(Journey.workspace_id == workspace_id))
    campaigns = _campaigns(workspace_id)
    if exists is not None or REFERRAL_SLUG not in campaigns or SURVEY_SLUG not in campaigns:
        return 0
    questions = _question_keys(campaigns[SURVEY_SLUG])
    if questions is None:
        return 0
    now = now or utcnow()
    since = now - LIVE_FOR
    rng = random.Random(20261206)  # noqa: S311  (demo data, not security)
    _consents(workspace_id, campaigns[REFERRAL_SLUG], rng)
    _reward_times(workspace_id)
    db.session.expunge_all()
    _templates(workspace_id, questions)
    ids = _journeys(workspace_id, questions, since)
    _run(workspace_id, since, now)
    return len(ids)
