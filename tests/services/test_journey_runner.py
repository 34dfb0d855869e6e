"""The journey runner: waits that fall due, waiting for an event and its timeout, branches,
tags, webhooks, versions that stay, pausing, and every step exactly once, also with two
runners at once or a runner that lost its claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from referral import tasks
from referral.extensions import db
from referral.models import Customer, Workspace
from referral.models.base import utcnow
from referral.models.journey import CustomerTag, JourneyEnrolment, JourneyStepLog
from referral.models.webhooks import WebhookDelivery
from referral.services import journeys, webhooks
from referral.services.journey_runner import LEASE, advance, claim_due, run_due
from referral.services.journey_tags import add_tag
from tests.concurrency import race
from tests.services.journey_setup import (
    DAY,
    HOUR,
    T0,
    Shop,
    end,
    enrolments,
    mails,
    outcomes,
    privacy_footer,
    send,
)


def wait(step_id: str, **duration: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "wait", "for": duration}


def test_a_send_right_after_entering_queues_one_message_and_the_journey_ends(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    anna = shop.person(name="Anna Jansen")
    shop.event(anna, "signup_confirmed")
    assert run_due(T0) == 1
    [enrolment] = enrolments(journey)
    assert (enrolment.status, enrolment.step, enrolment.next_run_at) == ("done", "end", None)
    assert outcomes(enrolment) == [("hello", "entered"), ("hello", "sent"), ("end", "exit")]
    [mail] = mails()
    assert (mail.subject, mail.kind, mail.customer_id) == (
        "Welcome, Anna",
        "journey:marketing",
        anna.customer_id,
    )
    assert mail.body_text == "Thanks for joining Spring referral." + privacy_footer(anna)
    assert mail.dedupe_key == f"journey:{enrolment.id}:hello:1"
    assert run_due(T0 + DAY) == 0


def test_a_wait_is_due_later_and_counts_from_when_it_started(shop: Shop) -> None:
    journey = shop.journey([wait("pause", days=1), send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert (enrolment.status, enrolment.step, enrolment.next_run_at) == (
        "active",
        "pause",
        T0 + DAY,
    )
    assert run_due(T0 + 23 * HOUR) == 0 and mails() == []
    assert run_due(T0 + DAY + 5 * HOUR) == 1  # a late runner: the path is the same
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:] == [("pause", "waited"), ("hello", "sent"), ("end", "exit")]
    assert len(mails()) == 1


def wait_for_purchase() -> list[dict[str, Any]]:
    return [
        {
            "id": "bought",
            "type": "wait_for",
            "event": "purchase",
            "timeout": {"days": 7},
            "next": "thanks",
            "on_timeout": "nudge",
        },
        {"id": "thanks", "type": "tag", "tag": "buyer", "next": "end"},
        send("nudge", template="second", next="end"),
        end(),
    ]


def test_wait_for_wakes_when_the_event_is_recorded(shop: Shop) -> None:
    journey = shop.journey(wait_for_purchase())
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert (enrolment.status, enrolment.waiting_for, enrolment.wait_deadline) == (
        "waiting",
        "purchase",
        T0 + 7 * DAY,
    )
    shop.event(anna, "purchase", T0 + 2 * HOUR)
    [enrolment] = enrolments(journey)
    assert enrolment.next_run_at == T0 + 2 * HOUR  # woken by the event
    assert run_due(T0 + 2 * HOUR) == 1
    [enrolment] = enrolments(journey)
    assert enrolment.status == "done"
    assert outcomes(enrolment)[1:] == [
        ("bought", "received"),
        ("thanks", "tagged"),
        ("end", "exit"),
    ]
    assert db.session.scalars(select(CustomerTag.tag)).all() == ["buyer"]
    assert mails() == []


def test_wait_for_takes_the_timeout_branch_at_the_deadline(shop: Shop) -> None:
    journey = shop.journey(wait_for_purchase())
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    shop.event(anna, "refund", T0 + HOUR)  # another kind wakes nothing
    [enrolment] = enrolments(journey)
    assert enrolment.next_run_at == T0 + 7 * DAY
    assert run_due(T0 + 6 * DAY) == 0
    assert run_due(T0 + 7 * DAY) == 1
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:] == [("bought", "timeout"), ("nudge", "sent"), ("end", "exit")]
    assert [m.subject for m in mails()] == ["Still there, Anna?"]


def vip_branch() -> list[dict[str, Any]]:
    return [
        {
            "id": "which",
            "type": "branch",
            "cases": [{"when": [{"on": "tag", "op": "has", "value": "VIP"}], "next": "vip"}],
            "else": "regular",
        },
        send("vip", template="vip", next="end"),
        send("regular", template="regular", next="end"),
        end(),
    ]


def test_a_branch_takes_the_first_case_that_holds(shop: Shop) -> None:
    journey = shop.journey(vip_branch())
    vip, regular = shop.person(name="Vera Vip"), shop.person(name="Rob Regular")
    add_tag(db.session.get(Customer, vip.customer_id), "vip")
    shop.event(vip, "signup_confirmed")
    shop.event(regular, "signup_confirmed")
    assert run_due(T0) == 2
    first, second = enrolments(journey)
    assert outcomes(first)[1:3] == [("which", "branch:1"), ("vip", "sent")]
    assert outcomes(second)[1:3] == [("which", "branch:else"), ("regular", "sent")]
    assert [m.subject for m in mails()] == ["For our VIPs", "For everyone"]


def test_tag_and_untag_steps_change_the_tags_later_branches_see(shop: Shop) -> None:
    journey = shop.journey(
        [
            {"id": "mark", "type": "tag", "tag": "vip"},
            {"id": "unmark", "type": "untag", "tag": "newcomer"},
            *vip_branch(),
        ]
    )
    anna = shop.person()
    add_tag(db.session.get(Customer, anna.customer_id), "newcomer")
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:4] == [
        ("mark", "tagged"),
        ("unmark", "untagged"),
        ("which", "branch:1"),
    ]
    assert db.session.scalars(select(CustomerTag.tag)).all() == ["vip"]


def test_a_webhook_step_queues_journey_step_once(shop: Shop) -> None:
    workspace = db.session.get(Workspace, shop.workspace_id)
    webhooks.create_endpoint(workspace, "https://shop.example.com/hooks", ["journey.step"])
    journey = shop.journey([{"id": "tell", "type": "webhook", "label": "welcomed"}, end()])
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.event == "journey.step"
    data = delivery.payload["data"]
    assert data["step"] == {"id": "tell", "label": "welcomed", "visit": 1}
    assert data["journey"]["id"] == str(journey.id)
    assert data["customer_id"] == str(anna.customer_id)
    assert outcomes(enrolment)[1] == ("tell", "webhook")


def test_a_grant_is_logged_and_the_journey_goes_on(shop: Shop) -> None:
    definition = {
        "trigger": {"type": "event", "event": "signup_confirmed"},
        "steps": [{"id": "gift", "type": "grant", "reward": "coupon"}, send("hello"), end()],
    }
    journey = journeys.create_journey(shop.workspace_id, "Gift", definition, status="running")
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:3] == [("gift", "granted"), ("hello", "sent")]


def test_running_enrolments_keep_the_version_they_entered_with(shop: Shop) -> None:
    journey = shop.journey([wait("pause", hours=1), send("hello"), end()])
    first = shop.person()
    shop.event(first, "signup_confirmed")
    changed = {
        **journey.definition,
        "steps": [wait("pause", hours=1), send("bye", "second"), end()],
    }
    journeys.update_journey(journey, definition=changed)
    second = shop.person()
    shop.event(second, "signup_confirmed")
    run_due(T0 + HOUR)
    old, new = enrolments(journey)
    assert (old.version, new.version) == (1, 2)
    assert outcomes(old)[2] == ("hello", "sent")
    assert outcomes(new)[2] == ("bye", "sent")
    assert [m.subject for m in mails()] == ["Welcome, Anna", "Still there, Anna?"]


def test_a_paused_journey_does_not_advance_until_it_is_resumed(shop: Shop) -> None:
    journey = shop.journey([wait("pause", hours=1), send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    journeys.pause_journey(journey)
    assert run_due(T0 + DAY) == 0
    [enrolment] = enrolments(journey)
    assert (enrolment.step, mails()) == ("pause", [])
    journeys.resume_journey(journey)
    assert run_due(T0 + DAY) == 1
    assert len(mails()) == 1


def test_the_goal_ends_the_enrolment_wherever_it_stands(shop: Shop) -> None:
    journey = shop.journey(
        [wait("pause", days=3), send("hello"), end()],
        goal={"event": "purchase", "within_days": 14},
    )
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    shop.event(anna, "purchase", T0 + DAY)
    [enrolment] = enrolments(journey)
    assert enrolment.next_run_at == T0 + DAY  # the goal's event wakes it
    run_due(T0 + DAY)
    [enrolment] = enrolments(journey)
    assert (enrolment.status, enrolment.goal_reached_at) == ("done", T0 + DAY)
    assert outcomes(enrolment)[-1] == ("pause", "goal")
    assert mails() == []


def test_an_erased_customer_leaves_the_journey(shop: Shop) -> None:
    journey = shop.journey([wait("pause", hours=1), send("hello"), end()])
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    customer = db.session.get(Customer, anna.customer_id)
    customer.erased_at, customer.email, customer.email_display = T0, "erased-1", ""
    db.session.commit()
    run_due(T0 + HOUR)
    [enrolment] = enrolments(journey)
    assert enrolment.status == "exited"
    assert outcomes(enrolment)[-1] == ("pause", "exit")
    assert mails() == []


def test_run_due_twice_queues_the_message_once(shop: Shop) -> None:
    shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    run_due(T0)
    run_due(T0 + LEASE + HOUR)
    assert len(mails()) == 1


def test_runners_at_once_queue_each_message_once(app: Flask, shop: Shop) -> None:
    """Can workers sweeping at the same moment send one step twice?"""
    journey = shop.journey([send("hello"), send("again", "second"), end()])
    for _ in range(12):
        shop.event(shop.person(), "signup_confirmed")
    advanced: list[int] = []
    assert race(app, 3, lambda _i: advanced.append(run_due(T0))) == []
    assert sum(advanced) == 12
    assert len(mails()) == 24
    assert len({m.dedupe_key for m in mails()}) == 24
    assert {e.status for e in enrolments(journey)} == {"done"}


def test_two_runners_advancing_the_same_claim_take_the_step_once(app: Flask, shop: Shop) -> None:
    """Even two runners holding the same lease: the first to take the row runs it."""
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    lease = T0 + LEASE
    [ident] = claim_due(T0, lease, 10)
    results: list[bool] = []
    assert race(app, 2, lambda _i: results.append(advance(ident, T0, lease))) == []
    assert sorted(results) == [False, True]
    assert len(mails()) == 1
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment).count(("hello", "sent")) == 1


def test_a_step_replayed_at_the_same_visit_finds_its_message_queued(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    enrolment.status, enrolment.step, enrolment.next_run_at = "active", "hello", T0
    enrolment.visits = {"hello": 1}
    db.session.commit()
    run_due(T0 + HOUR)
    [mail] = mails()
    db.session.rollback()
    sent = db.session.scalars(
        select(JourneyStepLog.detail).where(JourneyStepLog.outcome == "sent")
    ).all()
    assert [detail["outbox_id"] for detail in sent] == [mail.id, mail.id]


def test_a_runner_that_lost_its_claim_does_nothing(shop: Shop) -> None:
    """A runner stalled past its lease: another runner took the row over and ran it."""
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    stale = T0 + LEASE
    [ident] = claim_due(T0, stale, 10)
    later = T0 + LEASE + timedelta(seconds=1)
    assert claim_due(T0 + timedelta(seconds=30), later, 10) == []  # still leased
    fresh = later + LEASE
    assert claim_due(later, fresh, 10) == [ident]  # the lease ran out: taken over
    assert advance(ident, later, stale) is False
    assert advance(ident, later, fresh) is True
    [enrolment] = enrolments(journey)
    assert (enrolment.status, enrolment.claimed_until) == ("done", None)
    assert len(mails()) == 1


def test_a_killed_runner_leaves_its_claim_to_run_out(shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed")
    claim_due(T0, T0 + LEASE, 10)  # the runner dies before advancing
    assert run_due(T0 + timedelta(seconds=5)) == 0
    assert run_due(T0 + LEASE + timedelta(seconds=1)) == 1
    [enrolment] = enrolments(journey)
    assert enrolment.status == "done" and len(mails()) == 1


def test_the_run_journeys_command_does_one_sweep(runner: Any, shop: Shop) -> None:
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed", at=T0)
    result = runner.invoke(args=["run-journeys"])
    assert result.exit_code == 0, result.output
    assert "1 enrolment(s) advanced" in result.output
    [enrolment] = enrolments(journey)
    assert enrolment.status == "done"
    db.session.rollback()
    assert db.session.scalar(select(JourneyEnrolment.claimed_until)) is None


def test_the_worker_advances_the_journeys_when_woken_and_every_minute(
    app: Flask, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    periodic = [type(task) for task in tasks.huey._registry.periodic_tasks]
    assert tasks.run_journeys_periodically.task_class in periodic
    assert tasks.enrol_journey_occasions.task_class in periodic
    woken: list[bool] = []
    monkeypatch.setattr(tasks, "run_journeys_task", lambda: woken.append(True))
    tasks.wake_journeys()
    assert woken == [True]
    monkeypatch.undo()
    monkeypatch.setattr(tasks, "_app", app)
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(), "signup_confirmed", at=utcnow())
    assert tasks.run_journeys_task.call_local() == 1
    [enrolment] = enrolments(journey)
    assert enrolment.status == "done"
    assert [m.status for m in mails()] == ["logged"]  # delivered right after the step
