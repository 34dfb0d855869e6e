"""The outgoing webhook catalogue: each event queued once, in the transaction of its cause,
only for endpoints that subscribed, and without a statement on the sign-up path when none did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from referral.admin.webhooks import EVENT_NAMES
from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery
from referral.services import webhooks as service
from referral.services.confirmation import confirm_participation
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.review import decide, void_entry
from referral.services.rules import add_rule
from tests.factories import Factory

URL = "https://hooks.example.com/in"


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", reward_depth=1)


def _workspace(campaign: Campaign) -> Workspace:
    row = db.session.get(Workspace, campaign.workspace_id)
    assert row is not None
    return row


def join(campaign: Campaign, email: str, code: str | None = None, **kw: Any) -> Any:
    return join_campaign(
        campaign, JoinRequest(email=email, referral_code=code, **kw), Visitor()
    ).participation


def queued(name: str | None = None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if name:
        query = query.where(WebhookDelivery.event == name)
    return list(db.session.scalars(query))


@contextmanager
def endpoint_reads() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "webhook_endpoints" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_sign_up_reads_no_endpoint_when_nobody_subscribed_to_what_it_causes(live) -> None:
    service.create_endpoint(_workspace(live), URL, ["reward.granted", "draw.completed"])
    with endpoint_reads() as seen:
        join(live, "a@example.com")
    assert seen == []
    assert queued() == []


def test_a_join_is_queued_once_with_the_participant(live) -> None:
    service.create_endpoint(_workspace(live), URL, ["participant.joined"])
    person = join(live, "a@example.com", utm={"utm_source": "mail"})
    join(live, "a@example.com")  # the same person again changes nothing
    [delivery] = queued()
    assert delivery.event == "participant.joined"
    assert delivery.event_key == f"participant.joined:{person.id}"
    participant = delivery.payload["data"]["participant"]
    assert participant["id"] == str(person.id)
    assert participant["email"] == "a@example.com"
    assert participant["status"] == "pending"
    assert participant["joined_at"]


def test_a_campaign_created_after_the_endpoint_knows_the_subscription(factory: Factory) -> None:
    workspace = factory.workspace()
    endpoint = service.create_endpoint(workspace, URL, ["participant.joined"])
    later = factory.campaign(workspace, status="live")
    assert later.webhook_events == ["participant.joined"]
    join(later, "a@example.com")
    assert [d.event for d in queued()] == ["participant.joined"]
    service.set_active(endpoint, False)
    assert db.session.get(Campaign, later.id).webhook_events == []


def test_a_confirmed_friend_counts_as_a_referral_and_a_held_reward_is_announced(
    factory: Factory,
) -> None:
    campaign = factory.campaign(status="live", reward_depth=1, hold_days=14)
    service.create_endpoint(
        _workspace(campaign), URL, ["referral.counted", "reward.held", "reward.granted"]
    )
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 5})
    advocate = join(campaign, "a@example.com", confirmed=True)
    friend = join(campaign, "b@example.com", advocate.referral_code)
    confirm_participation(friend)
    confirm_participation(friend)  # a second click on the link queues nothing more
    assert [d.event for d in queued()] == ["referral.counted", "reward.granted", "reward.held"]
    referral = queued("referral.counted")[0].payload["data"]["referral"]
    assert referral["participant_id"] == str(friend.id)
    assert referral["referrer_id"] == str(advocate.id)
    held = queued("reward.held")[0].payload["data"]["reward"]
    assert held["participant_id"] == str(advocate.id)
    assert held["status"] == "pending" and held["approve_after"]


def test_a_refused_referral_is_rejected_at_the_join_with_its_reason(live) -> None:
    service.create_endpoint(_workspace(live), URL, ["referral.rejected"])
    device = Visitor(visitor_id="one-browser")
    advocate = join_campaign(
        live, JoinRequest(email="a@example.com", confirmed=True), device
    ).participation
    join(live, "b@example.com")  # no code: no referral to reject
    join(live, "c@example.com", "NO-SUCH-CODE")
    join_campaign(
        live, JoinRequest(email="a2@example.com", referral_code=advocate.referral_code), device
    )
    reasons = [d.payload["data"]["referral"] for d in queued()]
    assert [(r["reason"], r["referrer_id"]) for r in reasons] == [
        ("unknown_code", None),
        ("self_referral", None),
    ]


def test_rejecting_a_flagged_friend_rejects_the_referral_and_voids_its_rewards(live) -> None:
    service.create_endpoint(_workspace(live), URL, ["referral.rejected", "reward.voided"])
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 5})
    advocate = join(live, "a@example.com", confirmed=True)
    friend = join(live, "temp@mailinator.com", advocate.referral_code)
    confirm_participation(friend)
    assert friend.status == "flagged" and queued() == []
    decide(live.workspace_id, [friend.id], "reject", None, "Throwaway address")
    events = [(d.event, d.payload["data"]) for d in queued()]
    assert [name for name, _ in events] == ["referral.rejected", "reward.voided"]
    assert events[0][1]["referral"]["reason"] == "Throwaway address"
    assert events[1][1]["reward"]["participant_id"] == str(advocate.id)
    assert events[1][1]["reward"]["reason"] == "Throwaway address"
    assert events[1][1]["reward"]["status"] == "void"


def test_voiding_one_reward_is_announced_once_with_the_reason(live) -> None:
    service.create_endpoint(_workspace(live), URL, ["reward.voided"])
    add_rule(live, {"event": "purchase", "level": 0, "reward": "points", "amount": 5})
    person = join(live, "a@example.com", confirmed=True)
    [entry] = report_event(live, person, "purchase", external_id="order-1").rewards
    void_entry(entry, "Refunded", None, live.workspace_id)
    void_entry(entry, "Refunded again", None, live.workspace_id)
    [delivery] = queued()
    assert delivery.payload["data"]["reward"]["reason"] == "Refunded"


@pytest.mark.parametrize(
    ("kind", "name"),
    [("survey_completed", "survey.completed"), ("trial_converted", "trial.converted")],
)
def test_a_reported_event_is_its_webhook_event_once(live, kind: str, name: str) -> None:
    service.create_endpoint(_workspace(live), URL, [name])
    person = join(live, "a@example.com", confirmed=True)
    first = report_event(live, person, kind, external_id="x-1")
    report_event(live, person, kind, external_id="x-1")
    [delivery] = queued()
    assert delivery.event == name
    assert delivery.payload["data"]["event"]["id"] == str(first.event.id)
    assert delivery.payload["data"]["event"]["participant_id"] == str(person.id)


def test_a_milestone_is_announced_when_the_advocate_reaches_it(live) -> None:
    service.create_endpoint(_workspace(live), URL, ["milestone.reached"])
    add_rule(live, {"milestone": 2, "level": 0, "reward": "points", "amount": 50})
    advocate = join(live, "a@example.com", confirmed=True)
    join(live, "b@example.com", advocate.referral_code, confirmed=True)
    assert queued() == []
    join(live, "c@example.com", advocate.referral_code, confirmed=True)
    [delivery] = queued()
    reached = delivery.payload["data"]["event"]
    assert reached["participant_id"] == str(advocate.id)
    assert reached["data"]["milestone"] == 2


def test_every_catalogued_event_has_an_admin_label() -> None:
    assert list(EVENT_NAMES) == list(WEBHOOK_EVENTS)
