"""Duplicating a campaign: a draft set up like the original, with none of its people; and the
publishing checks a copy (or any draft) meets before it goes live."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from referral.demo.lottery import DRAWN_SLUG, HELD, LIVE_SLUG
from referral.demo.seed import seed_demo
from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    CouponCode,
    InstantWinPlay,
    InstantWinPrize,
    LedgerEntry,
    Lottery,
    LotteryEntry,
    Participation,
    Survey,
)
from referral.models.base import utcnow
from referral.services import counters, instant_win, survey_builder
from referral.services.campaign_copies import copy_name, copy_slug, duplicate_campaign
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.coupons import add_coupons
from referral.services.lottery import held_for_review
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import LOTTERY_RULES, Factory


def count(model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0


def confirmed(factory: Factory, campaign: Campaign) -> Participation:
    return factory.participation(campaign, status="confirmed", confirmed_at=utcnow())


def test_a_copy_is_a_draft_named_copy_at_a_new_slug_with_the_settings_and_rules(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    source = factory.campaign(
        workspace,
        name="Spring referral",
        slug="spring",
        status="live",
        description="Bring a friend.",
        reward_depth=2,
        attribution_days=14,
        hold_days=7,
        locales=["en", "de"],
        settings={"cap_count": 5, "consent_text": "Yes, mail me.", "trial": {"days": 30}},
    )
    add_rule(source, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    add_rule(source, {"milestone": 3, "level": 0, "reward": "points", "amount": 500})

    copy = duplicate_campaign(source, marketer_id=None, actor="api-key:1")

    assert (copy.status, copy.name, copy.slug) == ("draft", "Spring referral (copy)", "spring-copy")
    assert copy.workspace_id == workspace.id and copy.id != source.id
    assert copy.published_at is None and copy.closed_at is None
    assert (copy.kind, copy.description, copy.locales) == (
        "referral",
        "Bring a friend.",
        ["en", "de"],
    )
    assert (copy.reward_depth, copy.attribution_days, copy.hold_days) == (2, 14, 7)
    assert copy.settings == source.settings
    rules = [(r.event, r.milestone, r.level, r.reward, r.amount, r.active) for r in copy.rules]
    assert rules == [
        ("signup_confirmed", None, 1, "points", 100, True),
        (None, 3, 0, "points", 500, True),
    ]
    assert {r.id for r in copy.rules}.isdisjoint({r.id for r in source.rules})


def test_every_further_copy_takes_the_next_free_slug(factory: Factory) -> None:
    source = factory.campaign(slug="summer", name="Summer")
    factory.campaign(slug="summer-copy-3")  # taken by hand meanwhile
    slugs = [duplicate_campaign(source).slug for _ in range(3)]
    assert slugs == ["summer-copy", "summer-copy-2", "summer-copy-4"]


def test_a_long_name_and_slug_are_shortened_to_fit_their_columns() -> None:
    assert copy_name("N" * 120) == "N" * 113 + " (copy)"
    assert len(copy_name("N" * 120)) == 120


def test_a_slug_of_64_characters_still_gets_a_valid_copy_slug(factory: Factory) -> None:
    source = factory.campaign(slug="s" * 64)
    slug = copy_slug(source.slug)
    assert slug == "s" * 53 + "-copy" and len(slug) <= 64


def test_the_copy_carries_none_of_the_people_of_a_closed_lottery(factory: Factory) -> None:
    """Participations, entries, ledger lines, the seed and the digest stay with the original;
    the copy's official rules are the original's as they stand."""
    source = factory.campaign(kind="lottery", slug="draw")
    publish_campaign(source)
    add_rule(source, {"event": "signup_confirmed", "level": 1, "reward": "entries", "amount": 1})
    advocate = confirmed(factory, source)
    friend = factory.participation(source, referrer=advocate, status="flagged")
    close_campaign(source)
    assert count(LotteryEntry, campaign_id=source.id) == 1

    copy = duplicate_campaign(source)

    assert copy.status == "draft"
    assert copy.settings == {"rules": LOTTERY_RULES}
    assert "commitment" not in copy.settings and "entries_digest" not in copy.settings
    assert count(Participation, campaign_id=copy.id) == 0
    assert count(LotteryEntry, campaign_id=copy.id) == 0
    assert count(Lottery, campaign_id=copy.id) == 0
    assert count(LedgerEntry, participation_id=friend.id) == 0
    assert [(r.event, r.reward) for r in copy.rules] == [("signup_confirmed", "entries")]
    # The copy commits to a seed of its own when it goes live.
    publish_campaign(copy)
    own = db.session.scalar(select(Lottery).where(Lottery.campaign_id == copy.id))
    first = db.session.scalar(select(Lottery).where(Lottery.campaign_id == source.id))
    assert own is not None and first is not None and own.commitment != first.commitment


def test_the_copy_of_a_survey_asks_the_same_questions_and_takes_no_answers_along(
    factory: Factory,
) -> None:
    source = factory.campaign(kind="survey", status="live")
    survey_builder.add_question(
        source, {"kind": "single", "prompt": "Roast?", "options": ["Light", "Dark"]}
    )
    survey_builder.add_question(source, {"kind": "nps", "prompt": "Recommend us?"})
    survey_builder.update_settings(source, {"anonymous": True, "quota": 50, "intro": "Hi!"})

    copy = duplicate_campaign(source)

    survey = db.session.scalar(select(Survey).where(Survey.campaign_id == copy.id))
    assert survey is not None
    assert (survey.intro, survey.anonymous, survey.quota, survey.closed_at) == (
        "Hi!",
        True,
        50,
        None,
    )
    asked = [(q.kind, q.prompt, [o.label for o in q.options]) for q in survey.questions]
    assert asked == [("single", "Roast?", ["Light", "Dark"]), ("nps", "Recommend us?", [])]


def test_the_copy_of_a_game_has_the_same_odds_in_full_stock_and_no_plays(
    factory: Factory,
) -> None:
    source = factory.campaign(kind="instant_win", status="live")
    mug = instant_win.add_prize(source, {"name": "Mug", "chance": "10", "inventory": 5})
    instant_win.add_prize(source, {"name": "Bag", "chance": "1", "inventory": 2})
    instant_win.switch_prize(source, mug.id, False)
    db.session.execute(
        InstantWinPrize.__table__.update().where(InstantWinPrize.id == mug.id).values(remaining=1)
    )
    db.session.commit()

    copy = duplicate_campaign(source)

    prizes = db.session.scalars(
        select(InstantWinPrize)
        .where(InstantWinPrize.campaign_id == copy.id)
        .order_by(InstantWinPrize.id)
    ).all()
    table = [(p.name, p.chance_ppm, p.inventory, p.remaining, p.active) for p in prizes]
    assert table == [("Mug", 100_000, 5, 5, False), ("Bag", 10_000, 2, 2, True)]
    assert count(InstantWinPlay, campaign_id=copy.id) == 0


def test_the_coupon_pool_stays_with_the_original(factory: Factory) -> None:
    """A code is handed out once: copied into a second pool, it could be handed out twice."""
    source = factory.campaign()
    add_coupons(source, ["SPRING-1", "SPRING-2"])
    copy = duplicate_campaign(source)
    assert count(CouponCode, campaign_id=copy.id) == 0
    assert count(CouponCode, campaign_id=source.id) == 2


def test_duplicating_is_audited_with_who_asked_and_what_was_copied(factory: Factory) -> None:
    marketer, workspace = factory.marketer(role="editor")
    source = factory.campaign(workspace)
    add_rule(source, {"event": "purchase", "level": 1, "reward": "points", "amount": 10})
    copy = duplicate_campaign(source, marketer_id=marketer.id, ip_hash="h" * 64)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.duplicated")
    ).one()
    assert entry.subject == f"campaign:{copy.id}"
    assert (entry.workspace_id, entry.marketer_id, entry.outcome) == (
        workspace.id,
        marketer.id,
        "ok",
    )
    assert entry.data == {
        "source_id": source.id,
        "slug": copy.slug,
        "reward_rules": 1,
        "questions": 0,
        "prizes": 0,
        "mails": 0,
    }


def test_a_copy_that_fails_half_way_leaves_nothing_behind(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: the campaign, its rules and its survey are written together or not."""
    source = factory.campaign(kind="survey")
    survey_builder.add_question(source, {"kind": "nps", "prompt": "Recommend us?"})
    before = count(Campaign)

    def broken(*args: Any, **kw: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("referral.services.campaign_copies._copy_prizes", broken)
    with pytest.raises(RuntimeError):
        duplicate_campaign(source)
    assert count(Campaign) == before
    assert count(Survey) == 1
    assert count(AuditEntry, action="campaign.duplicated") == 0


# --- publishing checks --------------------------------------------------------------------------


def test_a_survey_without_questions_stays_a_draft_naming_questions(factory: Factory) -> None:
    campaign = factory.campaign(kind="survey")
    with pytest.raises(ValidationFailed) as refused:
        publish_campaign(campaign)
    assert set(refused.value.errors) == {"questions"}
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "draft"
    survey_builder.add_question(campaign, {"kind": "nps", "prompt": "Recommend us?"})
    assert publish_campaign(campaign).status == "live"


def test_a_game_without_a_prize_to_win_stays_a_draft_naming_prizes(factory: Factory) -> None:
    campaign = factory.campaign(kind="instant_win")
    with pytest.raises(ValidationFailed) as refused:
        publish_campaign(campaign)
    assert set(refused.value.errors) == {"prizes"}
    prize = instant_win.add_prize(campaign, {"name": "Mug", "chance": "10", "inventory": 0})
    with pytest.raises(ValidationFailed):
        publish_campaign(campaign)  # none in stock
    instant_win.add_prize(campaign, {"name": "Bag", "chance": "10", "inventory": 3})
    instant_win.switch_prize(campaign, prize.id, False)
    assert publish_campaign(campaign).status == "live"


def test_a_game_whose_only_prize_is_switched_off_cannot_go_live(factory: Factory) -> None:
    campaign = factory.campaign(kind="instant_win")
    prize = instant_win.add_prize(campaign, {"name": "Mug", "chance": "10", "inventory": 4})
    instant_win.switch_prize(campaign, prize.id, False)
    with pytest.raises(ValidationFailed) as refused:
        publish_campaign(campaign)
    assert set(refused.value.errors) == {"prizes"}


# --- held for review -----------------------------------------------------------------------------


def test_a_draw_counts_its_sign_ups_held_for_review_from_its_counters(factory: Factory) -> None:
    lottery = factory.campaign(kind="lottery", status="live")
    other = factory.campaign(kind="lottery", status="live")
    confirmed(factory, lottery)
    for campaign in (lottery, lottery, other):
        factory.participation(campaign, status="flagged")
    counters.reconcile()  # the factory writes rows around the counting paths
    assert held_for_review(lottery) == 2
    assert held_for_review(other) == 1


def test_the_demo_holds_sign_ups_for_review_and_prepares_the_next_draw_once(app: Any) -> None:
    seed_demo(participants=30)
    live = db.session.scalars(select(Campaign).where(Campaign.slug == LIVE_SLUG)).one()
    assert held_for_review(live) == len(HELD)
    copy = db.session.scalars(select(Campaign).where(Campaign.slug == f"{DRAWN_SLUG}-copy")).one()
    assert (copy.status, copy.name) == ("draft", "Winter draw: a year of coffee (copy)")
    assert [(r.event, r.reward) for r in copy.rules] == [("signup_confirmed", "entries")]
    assert count(Participation, campaign_id=copy.id) == 0
    campaigns = count(Campaign)
    seed_demo(participants=30)
    assert count(Campaign) == campaigns
    assert held_for_review(live) == len(HELD)


def test_copies_made_at_the_same_moment_each_get_a_slug_of_their_own(
    app: Any, factory: Factory
) -> None:
    source = factory.campaign(slug="rush", name="Rush")
    source_id = source.id

    def copy(_: int) -> None:
        found = db.session.get(Campaign, source_id)
        assert found is not None
        duplicate_campaign(found)

    errors = race(app, 4, copy)

    assert errors == []
    db.session.rollback()  # see the threads' commits
    slugs = db.session.scalars(
        select(Campaign.slug).where(Campaign.slug.startswith("rush-copy")).order_by(Campaign.slug)
    ).all()
    assert slugs == ["rush-copy", "rush-copy-2", "rush-copy-3", "rush-copy-4"]
    assert count(AuditEntry, action="campaign.duplicated") == 4
