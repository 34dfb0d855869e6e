"""The workspace's cap on marketing mail is its owner's setting: 3 in 7 days until changed,
1 to 50 messages in 1 to 90 days, honoured by the runner over every journey, and every
message past it logged ``skipped:cap``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from referral.domain.consent_topics import Cap
from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry, Workspace
from referral.models.journey import JourneyStepLog
from referral.services.journey_runner import run_due
from referral.services.workspace_settings import mail_cap, set_mail_cap
from tests.services.journey_setup import DAY, HOUR, T0, Shop, end, enrolments, mails, outcomes, send


def workspace_of(shop: Shop) -> Workspace:
    found = db.session.get(Workspace, shop.workspace_id)
    assert found is not None
    return found


def test_a_workspace_caps_three_messages_in_seven_days_until_its_owner_changes_it(
    shop: Shop,
) -> None:
    assert mail_cap(shop.workspace_id) == Cap(3, 7)


def test_the_runner_honours_a_cap_of_one_in_seven_days_and_logs_the_skip(shop: Shop) -> None:
    set_mail_cap(workspace_of(shop), 1, 7)
    journey = shop.journey([send("hello"), send("again", "second"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    [enrolment] = enrolments(journey)
    assert outcomes(enrolment)[1:] == [("hello", "sent"), ("again", "skipped:cap"), ("end", "exit")]
    skipped = db.session.scalars(
        select(JourneyStepLog).where(JourneyStepLog.outcome == "skipped:cap")
    ).one()
    assert skipped.detail == {"scope": "workspace"}
    assert len(mails()) == 1


def test_the_cap_counts_mail_from_every_journey_of_the_workspace(shop: Shop) -> None:
    set_mail_cap(workspace_of(shop), 2, 7)
    first = shop.journey([send("hello"), end()])
    second = shop.journey([send("hello", "second"), end()])
    third = shop.journey([send("hello", "vip"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    sent = [outcomes(e)[1] for j in (first, second, third) for e in enrolments(j)]
    assert sorted(sent) == [("hello", "sent"), ("hello", "sent"), ("hello", "skipped:cap")]
    assert len(mails()) == 2


def test_a_raised_cap_lets_the_fourth_message_go(shop: Shop) -> None:
    steps: list[dict[str, Any]] = [send("a"), send("b"), send("c"), send("d", "second"), end()]
    journey = shop.journey(steps)
    shop.event(shop.person(), "signup_confirmed")
    shop.event(shop.person(), "signup_confirmed")
    set_mail_cap(workspace_of(shop), 4, 7)
    run_due(T0)
    for enrolment in enrolments(journey):
        assert [o for _s, o in outcomes(enrolment)[1:5]] == ["sent"] * 4
    assert len(mails()) == 8


def test_the_cap_window_is_the_workspace_s_days(shop: Shop) -> None:
    set_mail_cap(workspace_of(shop), 1, 2)
    wait = {"id": "w", "type": "wait", "for": {"days": 1}}
    later = {"id": "w2", "type": "wait", "for": {"days": 2}}
    journey = shop.journey([send("a"), wait, send("b", "second"), later, send("c", "vip"), end()])
    shop.event(shop.person(), "signup_confirmed")
    run_due(T0)
    run_due(T0 + DAY)
    run_due(T0 + 3 * DAY + HOUR)
    [enrolment] = enrolments(journey)
    sends = [(s, o) for s, o in outcomes(enrolment)[1:] if s in ("a", "b", "c")]
    assert sends == [("a", "sent"), ("b", "skipped:cap"), ("c", "sent")]


@pytest.mark.parametrize(
    ("limit", "days", "field"),
    [
        (0, 7, "limit"),
        (51, 7, "limit"),
        (3, 0, "days"),
        (3, 91, "days"),
        ("3", 7, "limit"),
        (True, 7, "limit"),
        (3, None, "days"),
    ],
)
def test_a_cap_out_of_its_range_is_refused_and_nothing_stored(
    shop: Shop, limit: object, days: object, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        set_mail_cap(workspace_of(shop), limit, days)
    assert field in refused.value.errors
    db.session.rollback()
    assert mail_cap(shop.workspace_id) == Cap(3, 7)


def test_the_widest_cap_is_fifty_in_ninety_days_and_a_change_is_audited(shop: Shop) -> None:
    assert set_mail_cap(workspace_of(shop), 50, 90, marketer_id=None) == Cap(50, 90)
    db.session.rollback()
    assert mail_cap(shop.workspace_id) == Cap(50, 90)
    set_mail_cap(workspace_of(shop), 50, 90)  # the same again: nothing to audit
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "workspace.mail_cap")
    )
    assert entry.workspace_id == shop.workspace_id
    assert entry.data == {"limit": 50, "days": 90, "was": [3, 7]}


def test_the_database_refuses_a_cap_outside_its_range(shop: Shop) -> None:
    workspace = workspace_of(shop)
    workspace.mail_cap_limit = 0
    with pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.commit()
    db.session.rollback()
