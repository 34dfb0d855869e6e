"""Lottery services: entries and bonus entries, the freeze at close, draws and redraws."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from referral.domain.draws import verify_record
from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Draw,
    LotteryEntry,
    LotteryRulesVersion,
    RewardRule,
)
from referral.models.base import utcnow
from referral.services import draws, lottery
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import LOTTERY_RULES, Factory


def make_lottery(factory: Factory, **rules: object) -> Campaign:
    campaign = factory.campaign(kind="lottery", settings={"rules": {**LOTTERY_RULES, **rules}})
    return publish_campaign(campaign)


def join(campaign: Campaign, email: str, code: str | None = None, **kw: object):
    request = JoinRequest(email=email, referral_code=code, confirmed=True, **kw)
    return join_campaign(campaign, request, Visitor()).participation


def test_invariant_4_fair_draws_publishing_a_lottery_commits_and_records_rules_version_1(
    factory: Factory,
) -> None:
    campaign = make_lottery(factory)
    state = lottery.lottery_of(campaign)
    assert state is not None and state.seed != state.commitment
    assert campaign.settings["commitment"] == state.commitment
    versions = db.session.scalars(select(LotteryRulesVersion)).all()
    assert [(v.version, v.rules["sponsor"]) for v in versions] == [(1, "Example B.V.")]


def test_amending_published_rules_makes_a_new_logged_version(factory: Factory) -> None:
    campaign = make_lottery(factory)
    commitment = lottery.lottery_of(campaign).commitment
    with pytest.raises(ValidationFailed):
        lottery.amend_rules(campaign, {**LOTTERY_RULES, "claim_days": 30}, " ")
    lottery.amend_rules(campaign, {**LOTTERY_RULES, "claim_days": 30}, "Longer claim period")
    versions = lottery.rules_versions(campaign)
    assert [(v.version, v.rules["claim_days"]) for v in versions] == [(1, 14), (2, 30)]
    assert versions[1].reason == "Longer claim period"
    assert lottery.lottery_of(campaign).commitment == commitment


def test_bonus_entries_come_from_entries_rewards_and_are_capped(factory: Factory) -> None:
    campaign = make_lottery(factory, entry_limit=3)
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "entries", "amount": 1})
    advocate = join(campaign, "a@example.org")
    for n in range(4):
        join(campaign, f"friend{n}@example.org", advocate.referral_code, channel="link")
    weights = lottery.current_entries(campaign)
    assert weights[advocate.id] == 3  # 1 + 4 bonus, capped at entry_limit 3
    assert sorted(weights.values()) == [1, 1, 1, 1, 3]


def test_a_channel_can_be_switched_off_for_bonus_entries(factory: Factory) -> None:
    campaign = make_lottery(factory, entry_limit=10, no_bonus_channels=["whatsapp"])
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "entries", "amount": 1})
    advocate = join(campaign, "a@example.org")
    join(campaign, "b@example.org", advocate.referral_code, channel="whatsapp")
    join(campaign, "c@example.org", advocate.referral_code, channel="email")
    assert lottery.current_entries(campaign)[advocate.id] == 2  # only the e-mail friend counts


def test_invariant_4_fair_draws_closing_freezes_entries_with_opaque_ids_and_a_digest(
    factory: Factory,
) -> None:
    campaign = make_lottery(factory)
    people = [join(campaign, f"p{n}@example.org") for n in range(3)]
    factory.participation(campaign, status="pending")  # unconfirmed: no entry
    close_campaign(campaign)
    rows = db.session.scalars(select(LotteryEntry)).all()
    assert {row.participation_id for row in rows} == {p.id for p in people}
    assert all(row.entry_id.startswith("e") and "@" not in row.entry_id for row in rows)
    assert len(campaign.settings["entries_digest"]) == 64
    with pytest.raises(Conflict):
        lottery.freeze_entries(campaign)
    assert lottery.entry_of(people[0]).entry_id in {row.entry_id for row in rows}


def test_a_draw_before_the_close_is_refused(factory: Factory) -> None:
    campaign = make_lottery(factory)
    join(campaign, "a@example.org")
    with pytest.raises(Conflict):
        draws.run_draw(campaign, 1)


def test_the_draw_record_verifies_and_a_redraw_takes_the_next_alternate(factory: Factory) -> None:
    campaign = make_lottery(factory)
    for n in range(6):
        join(campaign, f"p{n}@example.org")
    close_campaign(campaign)
    draw = draws.run_draw(campaign, 2, 2)
    assert verify_record(draw.record).ok
    winners, alternates = draw.record["winners"], draw.record["alternates"]
    draws.replace_winner(draw, winners[0], "Under age")
    assert draws.current_winners(draw) == [alternates[0], winners[1]]
    draws.replace_winner(draw, alternates[0], "No claim")  # a promoted alternate, in turn
    assert draws.current_winners(draw) == [alternates[1], winners[1]]
    last = draws.replace_winner(draw, winners[1], "No claim")
    assert last.replacement_entry_id is None  # none left: no new randomness
    assert draws.current_winners(draw) == [alternates[1]]
    with pytest.raises(ValidationFailed):
        draws.replace_winner(draw, winners[0], "again")


def test_invariant_4_fair_draws_every_draw_and_redraw_is_logged_with_its_reason(
    factory: Factory,
) -> None:
    """Can a draw be repeated, or a winner swapped, without trace? No: the draw runs once,
    and the draw and each replacement leave an audit entry; the published record lists every
    replacement with its reason."""
    campaign = make_lottery(factory)
    for n in range(4):
        join(campaign, f"p{n}@example.org")
    close_campaign(campaign)
    draw = draws.run_draw(campaign, 1, 2)
    out = draw.record["winners"][0]
    draws.replace_winner(draw, out, "Could not be reached")
    with pytest.raises(Conflict):
        draws.run_draw(campaign, 1, 2)
    logged = db.session.execute(
        select(AuditEntry.action, AuditEntry.data)
        .where(AuditEntry.subject == f"draw:{draw.id}")
        .order_by(AuditEntry.id)
    ).all()
    assert [action for action, _ in logged] == ["draw.run", "draw.replace"]
    assert logged[1].data["out"] == out and logged[1].data["reason"] == "Could not be reached"
    published = draws.published_record(draw)
    assert [(r["disqualified"], r["reason"]) for r in published["replacements"]] == [
        (out, "Could not be reached")
    ]


def test_a_draw_runs_once_under_twenty_concurrent_attempts(app, factory: Factory) -> None:
    campaign = make_lottery(factory)
    for n in range(5):
        join(campaign, f"p{n}@example.org")
    close_campaign(campaign)
    campaign_id = campaign.id
    db.session.commit()
    outcomes: list[str] = []

    def run(_: int) -> None:
        try:
            draws.run_draw(db.session.get(Campaign, campaign_id), 1)
            outcomes.append("drawn")
        except Conflict:
            outcomes.append("conflict")

    assert race(app, 20, run) == []
    assert sorted(outcomes) == ["conflict"] * 19 + ["drawn"]
    assert db.session.query(Draw).count() == 1


@pytest.mark.parametrize(
    ("birth", "region", "fields"),
    [
        (None, "NL", {"birth_date"}),
        (date(2015, 1, 1), "NL", {"birth_date"}),
        (date(1990, 1, 1), "US", {"region"}),
        (date(2100, 1, 1), None, {"birth_date", "region"}),
    ],
)
def test_eligibility_names_each_reason(factory: Factory, birth, region, fields) -> None:
    campaign = make_lottery(factory)
    with pytest.raises(ValidationFailed) as caught:
        lottery.check_eligibility(campaign, birth, region)
    assert set(caught.value.errors) == fields


@pytest.mark.parametrize(
    ("birth", "region", "reason"),
    [
        (date(utcnow().year - 15, 1, 1), "NL", "You must be at least 18 to enter."),
        (None, "NL", "Give your date of birth."),
        (date(1990, 1, 1), None, "This draw is open only to residents of NL."),
        (date(1850, 1, 1), "NL", "Give a real date of birth."),
    ],
    ids=["too young", "no birth date", "another region", "not a real date"],
)
def test_an_ineligible_entry_is_refused_with_its_reason(
    factory: Factory, birth: date | None, region: str | None, reason: str
) -> None:
    campaign = make_lottery(factory)
    with pytest.raises(ValidationFailed) as caught:
        lottery.check_eligibility(campaign, birth, region)
    assert [str(m) for found in caught.value.errors.values() for m in found] == [reason]


def test_an_adult_in_an_eligible_region_may_enter(factory: Factory) -> None:
    campaign = make_lottery(factory)
    lottery.check_eligibility(campaign, date(1990, 5, 17), "NL")


def test_age_counts_whole_years_up_to_the_birthday() -> None:
    assert lottery.age_on(date(2008, 11, 27), date(2026, 11, 26)) == 17
    assert lottery.age_on(date(2008, 11, 26), date(2026, 11, 26)) == 18


def test_the_demo_seeds_a_verifiable_completed_draw_once(app) -> None:
    from referral.demo.lottery import DRAWN_SLUG
    from referral.demo.seed import seed_demo

    seed_demo(participants=30)
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == DRAWN_SLUG))
    draw = draws.draw_of(campaign)
    assert draw is not None and verify_record(draw.record).ok
    assert any(entry["weight"] > 1 for entry in draw.record["entries"])  # bonus entries
    live = db.session.scalar(select(Campaign).where(Campaign.slug == "demo-espresso-draw"))
    assert lottery.lottery_of(live) is not None
    seed_demo(participants=30)
    assert db.session.query(Draw).count() == 1


def test_no_bonus_entries_are_paid_after_the_close(factory: Factory) -> None:
    from referral.models import LedgerEntry
    from referral.services.events import report_event

    campaign = make_lottery(factory)
    add_rule(campaign, {"event": "lottery_entered", "level": 0, "reward": "entries", "amount": 1})
    add_rule(campaign, {"event": "lottery_entered", "level": 0, "reward": "points", "amount": 5})
    person = join(campaign, "a@example.org")
    close_campaign(campaign)
    reported = report_event(campaign, person, "lottery_entered")
    assert [entry.reward for entry in reported.rewards] == ["points"]
    assert db.session.query(LedgerEntry).filter_by(reward="entries").count() == 0


# No purchase necessary: buying never raises anyone's chance


@pytest.mark.parametrize("event", ["purchase", "trial_converted"])
def test_a_rule_giving_entries_for_a_paid_event_is_refused(factory: Factory, event: str) -> None:
    campaign = make_lottery(factory)
    with pytest.raises(ValidationFailed) as refused:
        add_rule(campaign, {"event": event, "level": 0, "reward": "entries", "amount": 1})
    assert set(refused.value.errors) == {"reward"}
    assert "no purchase necessary" in refused.value.errors["reward"][0]
    assert db.session.query(RewardRule).count() == 0


def test_a_purchase_may_still_pay_points_in_a_lottery(factory: Factory) -> None:
    campaign = make_lottery(factory)
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 5})
    assert db.session.query(RewardRule).count() == 1


def _rule_written_directly(campaign: Campaign) -> RewardRule:
    """A rule saved before rules were checked for this, or written to the database by hand."""
    rule = RewardRule(
        campaign_id=campaign.id, event="purchase", level=0, reward="entries", amount=5
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def test_a_lottery_with_a_rule_selling_entries_cannot_be_closed(factory: Factory) -> None:
    from referral.services.events import report_event
    from referral.services.rules import deactivate_rule

    campaign = make_lottery(factory)
    rule = _rule_written_directly(campaign)
    buyer = join(campaign, "buyer@example.org")
    free = join(campaign, "free@example.org")
    reported = report_event(campaign, buyer, "purchase", amount=100, currency="EUR")
    assert reported.rewards == []  # not paid either: checked again when paying
    with pytest.raises(Conflict) as refused:
        close_campaign(campaign)
    assert f"Reward rule {rule.id} gives draw entries for purchase" in refused.value.message
    db.session.rollback()
    assert campaign.status == "live" and lottery.lottery_of(campaign).entries_digest is None
    deactivate_rule(rule)
    close_campaign(campaign)
    weights = {row.participation_id: row.weight for row in lottery.frozen_entries(campaign)}
    assert weights == {buyer.id: 1, free.id: 1}


def test_entries_paid_for_a_purchase_by_an_older_rule_never_count(factory: Factory) -> None:
    from referral.models import Event, LedgerEntry

    campaign = make_lottery(factory)
    rule = _rule_written_directly(campaign)
    buyer = join(campaign, "buyer@example.org")
    purchase = Event(
        workspace_id=campaign.workspace_id,
        customer_id=buyer.customer_id,
        campaign_id=campaign.id,
        participation_id=buyer.id,
        kind="purchase",
        occurred_at=buyer.created_at,
    )
    db.session.add(purchase)
    db.session.flush()
    db.session.add(
        LedgerEntry(
            participation_id=buyer.id,
            source_event_id=purchase.id,
            rule_id=rule.id,
            level=0,
            reward="entries",
            amount=5,
            status="approved",
        )
    )
    db.session.commit()
    assert lottery.current_entries(campaign) == {buyer.id: 1}
