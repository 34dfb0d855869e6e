"""A journey's messages: never without consent for their topic, within the workspace's and
the journey's caps, held back by quiet hours, in the customer's language, and every skip
logged with its reason; then the figures per journey and per step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from referral.extensions import db
from referral.models import Customer
from referral.models.journey import JourneyStepLog
from referral.services import privacy_requests
from referral.services.journey_runner import run_due
from referral.services.journey_stats import customer_timeline, journey_stats
from referral.services.journey_templates import save_template
from tests.services.journey_setup import (
    DAY,
    HOUR,
    T0,
    Shop,
    end,
    enrolments,
    give_consent,
    mails,
    outcomes,
    privacy_footer,
    send,
)


def two_sends() -> list[dict[str, Any]]:
    return [send("hello"), send("again", "second"), end()]


def test_invariant_no_marketing_mail_without_consent(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(consent=False), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:] == [("hello", "skipped:no_consent"), ("end", "exit")]
    assert mails() == []


def test_a_withdrawn_consent_stops_the_next_message(shop: Shop) -> None:
    journey = shop.journey(
        [
            send("hello"),
            {"id": "w", "type": "wait", "for": {"days": 1}},
            send("again", "second"),
            end(),
        ]
    )
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    give_consent(db.session.get(Customer, anna.customer_id), "marketing", T0 + HOUR, "withdrawn")
    db.session.commit()
    run_due(T0 + DAY)
    [enrolment] = enrolments(journey)
    assert ("hello", "sent") in outcomes(enrolment)
    assert ("again", "skipped:no_consent") in outcomes(enrolment)
    assert len(mails()) == 1


def test_a_birthday_message_needs_its_own_opt_in(shop: Shop) -> None:
    journey = shop.journey([send("hello", topic="birthday"), end()])
    marketing_only = shop.person()
    both = shop.person()
    give_consent(db.session.get(Customer, both.customer_id), "birthday", T0 - DAY)
    db.session.commit()
    shop.event(marketing_only, "signup_confirmed")
    shop.event(both, "signup_confirmed")
    run_due(T0)
    first, second = enrolments(journey)
    assert outcomes(first)[1] == ("hello", "skipped:no_consent")
    assert outcomes(second)[1] == ("hello", "sent")
    assert [m.kind for m in mails()] == ["journey:birthday"]


def test_the_workspace_cap_counts_mail_from_every_journey(shop: Shop) -> None:
    other = shop.journey(
        [send("hello"), end()], trigger={"type": "event", "event": "purchase"}, reentry="every_time"
    )
    journey = shop.journey([send("hello"), end()])
    anna = shop.person()
    for hours in range(3):
        shop.event(anna, "purchase", T0 - DAY + hours * HOUR)
    run_due(T0 - DAY + 3 * HOUR)
    assert len(mails()) == 3 and len(enrolments(other)) == 3
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1] == ("hello", "skipped:cap")
    db.session.rollback()
    log = db.session.query(JourneyStepLog).filter_by(enrolment_id=enrolment.id, step="hello")
    assert log.filter_by(outcome="skipped:cap").one().detail == {"scope": "workspace"}
    assert len(mails()) == 3


def test_the_journey_cap_skips_beyond_its_limit(shop: Shop) -> None:
    journey = shop.journey(two_sends(), cap={"limit": 1, "days": 7})
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:3] == [("hello", "sent"), ("again", "skipped:cap")]
    assert len(mails()) == 1


def test_quiet_hours_hold_the_message_until_they_end(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()], quiet_hours={"start": "21:00", "end": "08:00"})
    late = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam
    shop.event(shop.person(timezone="Europe/Amsterdam"), "signup_confirmed", at=late)
    run_due(late)
    [enrolment] = enrolments(journey)
    morning = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
    assert (enrolment.step, enrolment.status, enrolment.next_run_at) == ("hello", "active", morning)
    assert outcomes(enrolment)[1] == ("hello", "deferred:quiet_hours")
    assert mails() == []
    assert run_due(morning - timedelta(minutes=1)) == 0
    run_due(morning)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[2:] == [("hello", "sent"), ("end", "exit")]
    assert len(mails()) == 1


def test_quiet_hours_can_skip_instead(shop: Shop) -> None:
    journey = shop.journey(
        [send("hello"), end()], quiet_hours={"start": "21:00", "end": "08:00", "then": "skip"}
    )
    late = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    shop.event(shop.person(), "signup_confirmed", at=late)
    run_due(late)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:] == [("hello", "skipped:quiet_hours"), ("end", "exit")]


def test_the_holdout_gets_no_mail_and_is_logged(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()], holdout_percent=50)
    people = [shop.person() for _ in range(12)]
    for person in people:
        shop.event(person, "signup_confirmed")
    run_due(T0)
    results = [outcomes(e)[1][1] for e in enrolments(journey)]
    assert set(results) == {"sent", "skipped:holdout"}
    assert len(mails()) == results.count("sent")


def test_the_message_is_written_in_the_customers_language(shop: Shop) -> None:
    shop.journey([send("hello"), end()])
    dora = shop.person(name="Dora Deutsch", locale="de_AT")
    nina = shop.person(name="Nina Nederlands", locale="nl")
    shop.event(dora, "signup_confirmed")
    shop.event(nina, "signup_confirmed")
    run_due(T0)
    german = privacy_footer(dora, "Ihre Daten herunterladen oder löschen")
    assert [(m.subject, m.body_text) for m in mails()] == [
        ("Willkommen", "Danke, Dora Deutsch." + german),
        # the campaign's locale
        ("Welcome, Nina", "Thanks for joining Spring referral." + privacy_footer(nina)),
    ]


def test_a_message_quotes_the_friends_who_joined(shop: Shop) -> None:
    save_template(
        shop.workspace_id,
        "friends",
        "en",
        "{{ friends_count }} friends joined",
        "{{ friends|map(attribute='name')|join(', ') }} joined through {{ referral_link }}.",
    )
    shop.journey([send("hello", "friends"), end()])
    anna = shop.person()
    shop.person(name="Ben Bakker", referrer=anna)
    shop.person(name="Chloé", referrer=anna)
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [mail] = mails()
    assert mail.subject == "2 friends joined"
    assert mail.body_text == (
        f"Chloé, Ben B. joined through http://localhost/r/{anna.referral_code}."
        + privacy_footer(anna)
    )


def test_a_template_that_fails_for_a_customer_is_skipped_with_its_reason(shop: Shop) -> None:
    save_template(shop.workspace_id, "broken", "en", "Hi", "{{ next_milestone.target }}")
    journey = shop.journey([send("hello", "broken"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1] == ("hello", "skipped:template_failed")
    assert mails() == []


def test_stats_count_entered_waiting_sent_skipped_and_goals(shop: Shop) -> None:
    journey = shop.journey(
        [send("hello"), {"id": "pause", "type": "wait", "for": {"days": 2}}, end()],
        goal={"event": "purchase", "within_days": 14},
    )
    buyer, silent, refused = shop.person(), shop.person(), shop.person(consent=False)
    for person in (buyer, silent, refused):
        shop.event(person, "signup_confirmed")
    run_due(T0)
    shop.event(buyer, "purchase", T0 + HOUR)
    run_due(T0 + HOUR)
    stats = journey_stats(journey)
    assert {k: stats[k] for k in ("entered", "in_progress", "done", "goal_reached")} == {
        "entered": 3,
        "in_progress": 2,
        "done": 1,
        "goal_reached": 1,
    }
    assert stats["conversion_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert (stats["sent"], stats["skipped"]) == (2, {"no_consent": 1})
    steps = {step["id"]: step for step in stats["steps"]}
    assert list(steps) == ["hello", "pause", "end"]
    assert (steps["hello"]["reached"], steps["hello"]["sent"]) == (3, 2)
    assert steps["hello"]["skipped"] == {"no_consent": 1}
    assert (steps["pause"]["reached"], steps["pause"]["waiting"]) == (3, 2)
    assert steps["pause"]["outcomes"] == {"goal": 1}
    assert steps["end"]["reached"] == 0


def test_the_customer_timeline_shows_each_step_newest_first(shop: Shop) -> None:
    shop.journey([send("hello"), end()])
    anna = shop.person(consent=False)
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    timeline = customer_timeline(anna.customer_id)
    assert [(e["step"], e["outcome"]) for e in timeline] == [
        ("end", "exit"),
        ("hello", "skipped:no_consent"),
        ("hello", "entered"),
    ]
    assert {e["journey"] for e in timeline} == {"Welcome"}


def test_a_message_can_link_to_the_customers_privacy_page(shop: Shop) -> None:
    save_template(shop.workspace_id, "privacy", "en", "Your data", "Yours: {{ privacy_url }}")
    shop.journey([send("hello", "privacy"), end()])
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [mail] = mails()
    assert mail.customer_id is not None
    page = privacy_requests.page_url(shop.workspace_id, mail.customer_id)
    assert mail.body_text == f"Yours: {page}"
    assert privacy_requests.from_page_token(page.rsplit("/", 1)[1])[1].id == mail.customer_id
