"""The counters of clicks, sign-ups and referrals: always what COUNT() over the rows says,
under concurrent writers too, and repaired by reconciling when rows were written around them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from referral.extensions import db
from referral.models import Campaign, Counter, Participation
from referral.models.base import utcnow
from referral.services import counters, retention
from referral.services.advocates import advocate_view
from referral.services.campaigns import campaign_overview
from referral.services.clicks import ClickWriter, record_click, resolve_code
from referral.services.confirmation import confirm_participation
from referral.services.participant_stats import standing
from referral.services.participants import referral_stats
from referral.services.review import decide
from referral.services.tx import atomic
from tests.concurrency import race
from tests.factories import Factory, add_click
from tests.scenarios import SAME_DEVICE, join


@pytest.fixture
def campaign(factory: Factory) -> Campaign:
    return factory.campaign(status="live", name="Counted")


def counted(campaign_id: int) -> dict[counters.Key, int]:
    """Every count of the campaign as its counters say, zeros left out."""
    rows = db.session.execute(
        select(Counter.participation_id, Counter.name, func.sum(Counter.value))
        .where(Counter.campaign_id == campaign_id)
        .group_by(Counter.participation_id, Counter.name)
    )
    return {(campaign_id, pid, name): int(n) for pid, name, n in rows if n}


def mixed_history(app: Flask, campaign: Campaign) -> dict[str, Participation]:
    """Joins (pending, confirmed at once, flagged from one device), confirmations by link,
    clicks written at once and by the batch writer, an approval and a rejection."""
    ada = join(campaign, "ada@example.com", confirmed=True)
    bob = join(campaign, "bob@example.com", ada.referral_code)
    cy = join(campaign, "cy@example.com", ada.referral_code, confirmed=True)
    flagged = [
        join(campaign, f"dev{i}@example.com", bob.referral_code, visitor=SAME_DEVICE)
        for i in range(5)
    ]
    assert [p.status for p in flagged].count("flagged") == 2
    confirm_participation(bob)
    confirm_participation(bob)  # again: changes nothing
    confirm_participation(flagged[0])
    held = [p.id for p in flagged if p.status == "flagged"]
    decide(campaign.workspace_id, held[:1], "approve", None)
    decide(campaign.workspace_id, held[1:], "reject", None)
    decide(campaign.workspace_id, held, "reject", None)  # decided already: ignored
    for code, n in ((ada.referral_code, 3), (bob.referral_code, 2)):
        target = resolve_code(code)
        assert target is not None
        for _ in range(n):
            record_click(target, "link")
    app.config["CLICK_BUFFER"] = True
    try:
        writer = ClickWriter.for_app(app)
        for code in (ada.referral_code, cy.referral_code, cy.referral_code):
            target = resolve_code(code)
            assert target is not None
            record_click(target, "qr")
        writer.flush()
    finally:
        app.config["CLICK_BUFFER"] = False
    return {"ada": ada, "bob": bob, "cy": cy}


def test_after_clicks_joins_confirmations_and_decisions_every_count_is_what_count_says(
    app: Flask, campaign: Campaign
) -> None:
    people = mixed_history(app, campaign)
    truth = {k: v for k, v in counters.truth(campaign.id).items() if v}
    assert counted(campaign.id) == truth
    assert counters.reconcile(campaign.id) == []
    # the pages that read the counters show the same numbers
    ada = db.session.get_one(Participation, people["ada"].id)
    view = advocate_view(ada)
    assert (view["clicks"], view["joined"], view["confirmed"]) == (4, 2, 2)
    bob = db.session.get_one(Participation, people["bob"].id)
    assert advocate_view(bob)["clicks"] == 2
    # of bob's five: one confirmed, two pending, one approved before confirming, one rejected
    assert standing(bob).referrals_confirmed == 1
    assert campaign_overview(campaign) == {
        "participants": 8,
        "confirmed": 4,
        "pending": 3,
        "flagged": 0,
        "rejected": 1,
        "referred": 7,
    }
    assert referral_stats(campaign) == {"clicks": 8, "joins": 6, "confirmed": 3}


def test_reconciling_repairs_counters_that_drifted_and_says_what_differed(
    app: Flask, campaign: Campaign
) -> None:
    people = mixed_history(app, campaign)
    ada_id = people["ada"].id
    db.session.execute(
        delete(Counter).where(Counter.participation_id == ada_id, Counter.name == "clicks")
    )
    db.session.execute(
        update(Counter)
        .where(Counter.participation_id == counters.CAMPAIGN, Counter.name == "status:pending")
        .values(value=Counter.value + 5)
    )
    db.session.add(  # a count of something that has no rows at all
        Counter(
            campaign_id=campaign.id,
            participation_id=ada_id,
            name="referrals:flagged",
            slot=3,
            value=2,
        )  # fmt: skip
    )
    db.session.commit()
    drifts = counters.reconcile(campaign.id)
    assert [(d.participation_id, d.name, d.counted, d.actual) for d in drifts] == sorted(
        [
            (counters.CAMPAIGN, "status:pending", 8, 3),
            (ada_id, "clicks", 0, 4),
            (ada_id, "referrals:flagged", 2, 0),
        ]
    )
    assert counted(campaign.id) == {k: v for k, v in counters.truth(campaign.id).items() if v}
    assert counters.reconcile(campaign.id) == []


def test_the_reconcile_command_reports_each_correction(runner, campaign: Campaign) -> None:
    join(campaign, "ada@example.com", confirmed=True)
    db.session.execute(delete(Counter))
    db.session.commit()
    result = runner.invoke(args=["reconcile-counters", "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    assert f"campaign {campaign.id}, campaign, status:confirmed: counted 0, actual 1" in (
        result.output
    )
    assert "1 counter(s) corrected." in result.output
    assert counters.by_status(counters.campaign_counts(campaign.id), "status")["confirmed"] == 1
    again = runner.invoke(args=["reconcile-counters"])
    assert again.exit_code == 0 and "0 counter(s) corrected." in again.output
    unknown = runner.invoke(args=["reconcile-counters", "--campaign", "999999"])
    assert unknown.exit_code != 0 and "No campaign 999999." in unknown.output


def test_concurrent_writers_never_lose_an_increment(app: Flask, campaign: Campaign) -> None:
    advocate = join(campaign, "ada@example.com", confirmed=True)
    key = (campaign.id, advocate.id, counters.CLICKS)
    code = advocate.referral_code

    def click_twenty_times(_n: int) -> None:
        for _ in range(20):
            target = resolve_code(code)
            assert target is not None
            record_click(target, "link")
            with atomic():
                counters.add({key: 1, (campaign.id, counters.CAMPAIGN, "test"): 2})

    assert race(app, 8, click_twenty_times) == []
    db.session.rollback()  # read what the writers committed, not an older snapshot
    mine = counters.participation_counts(campaign.id, [advocate.id])[advocate.id]
    assert mine[counters.CLICKS] == 8 * 20 * 2
    assert counters.campaign_counts(campaign.id)["test"] == 8 * 20 * 2
    assert counters.campaign_counts(campaign.id)[counters.CLICKS] == 8 * 20
    assert counters.reconcile(campaign.id)[0].name == "test"  # only the made-up count differs


def test_concurrent_joins_and_confirmations_of_one_person_are_counted_once(
    app: Flask, campaign: Campaign
) -> None:
    advocate = join(campaign, "ada@example.com", confirmed=True)
    pending = join(campaign, "bob@example.com", advocate.referral_code)
    campaign_id, pending_id, code = campaign.id, pending.id, advocate.referral_code

    def join_and_confirm(n: int) -> None:
        found = db.session.get_one(Campaign, campaign_id)
        join(found, "cy@example.com", code)  # the same person eight times at once
        confirm_participation(db.session.get_one(Participation, pending_id))

    assert race(app, 8, join_and_confirm) == []
    db.session.rollback()  # read what the writers committed, not an older snapshot
    assert counted(campaign_id) == {k: v for k, v in counters.truth(campaign_id).items() if v}
    status = counters.by_status(counters.campaign_counts(campaign_id), "status")
    assert (status["confirmed"], status["pending"]) == (2, 1)


def test_clicks_past_their_retention_leave_the_counts_with_their_rows(
    app: Flask, campaign: Campaign
) -> None:
    advocate = join(campaign, "ada@example.com", confirmed=True)
    now = utcnow()
    for age in (400, 300, 2):
        add_click(advocate, now - timedelta(days=age))
    db.session.commit()
    app.config["RETENTION_CLICKS_DAYS"] = 30
    retention.prune(now)
    mine = counters.participation_counts(campaign.id, [advocate.id])[advocate.id]
    assert mine[counters.CLICKS] == 1
    assert counters.campaign_counts(campaign.id)[counters.CLICKS] == 1
    assert counters.reconcile(campaign.id) == []
