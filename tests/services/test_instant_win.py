"""The instant-win game: odds, allowance, a log of every play, never oversold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral.domain import instant_win as game
from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Event, InstantWinPlay, InstantWinPrize, Participation
from referral.models.base import utcnow
from referral.services import instant_win as service
from tests.concurrency import race
from tests.factories import Factory


@pytest.fixture
def game_campaign(factory: Factory) -> Campaign:
    return factory.campaign(kind="instant_win", status="live")


def confirmed(factory: Factory, campaign: Campaign, referrer=None) -> Participation:
    return factory.participation(
        campaign, referrer=referrer, status="confirmed", confirmed_at=utcnow()
    )


def test_the_outcome_follows_the_bands_of_the_prize_table() -> None:
    table = [game.Prize(1, "Mug", 100_000, 5), game.Prize(2, "Bag", 50_000, 5)]
    assert game.outcome(table, 0).id == 1
    assert game.outcome(table, 99_999).id == 1
    assert game.outcome(table, 100_000).id == 2
    assert game.outcome(table, 149_999).id == 2
    assert game.outcome(table, 150_000) is None
    sold_out = [game.Prize(1, "Mug", 100_000, 0), game.Prize(2, "Bag", 50_000, 5)]
    assert game.outcome(sold_out, 5) is None  # its band does not go to the next prize


def test_a_roll_is_uniform_over_a_million_from_the_csprng(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(game.secrets, "randbelow", lambda n: seen.append(n) or 7)
    assert game.roll() == 7
    assert seen == [1_000_000]


def test_odds_are_written_as_percent_and_one_in_n() -> None:
    assert game.percent(25_000) == "2.5"
    assert game.percent(1_000_000) == "100"
    assert game.percent(1) == "0.0001"
    assert game.one_in(25_000) == 40


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "chance": "1", "inventory": 1}, "name"),
        ({"name": "Mug", "chance": "abc", "inventory": 1}, "chance"),
        ({"name": "Mug", "chance": "0", "inventory": 1}, "chance"),
        ({"name": "Mug", "chance": "0.00001", "inventory": 1}, "chance"),
        ({"name": "Mug", "chance": "101", "inventory": 1}, "chance"),
        ({"name": "Mug", "chance": "1", "inventory": -1}, "inventory"),
        ({"name": "Mug", "chance": "1", "inventory": None}, "inventory"),
    ],
)
def test_a_bad_prize_is_refused_naming_the_field(game_campaign, data, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.add_prize(game_campaign, data)
    assert field in caught.value.errors


def test_all_prizes_together_cannot_exceed_certainty(game_campaign) -> None:
    service.add_prize(game_campaign, {"name": "Mug", "chance": "60", "inventory": 3})
    with pytest.raises(ValidationFailed) as caught:
        service.add_prize(game_campaign, {"name": "Bag", "chance": "40.0001", "inventory": 3})
    assert "chance" in caught.value.errors


def test_one_play_per_day_plus_one_per_confirmed_referral(factory, game_campaign) -> None:
    person = confirmed(factory, game_campaign)
    assert service.allowance(game_campaign, person).total == 1
    service.play(game_campaign, person)
    with pytest.raises(Conflict):
        service.play(game_campaign, person)
    confirmed(factory, game_campaign, referrer=person)
    factory.participation(game_campaign, referrer=person, status="pending")  # does not count
    left = service.allowance(game_campaign, person)
    assert (left.daily_left, left.bonus_left) == (0, 1)
    assert service.play(game_campaign, person).play.bonus
    with pytest.raises(Conflict):
        service.play(game_campaign, person)
    tomorrow = utcnow() + timedelta(days=1)
    assert service.allowance(game_campaign, person, tomorrow).total == 1


def test_a_pending_participant_cannot_play(factory, game_campaign) -> None:
    pending = factory.participation(game_campaign, status="pending")
    with pytest.raises(Conflict):
        service.play(game_campaign, pending)
    assert db.session.scalar(select(func.count()).select_from(InstantWinPlay)) == 0


def test_every_play_is_logged_and_on_the_timeline(factory, game_campaign) -> None:
    service.add_prize(game_campaign, {"name": "Mug", "chance": "100", "inventory": 1})
    person = confirmed(factory, game_campaign)
    result = service.play(game_campaign, person)
    assert result.won and result.prize.name == "Mug"
    event = db.session.scalar(select(Event).where(Event.kind == "instant_win_played"))
    assert event.customer_id == person.customer_id
    assert event.data == {"play_id": result.play.id, "won": True, "prize": "Mug"}


def test_a_sold_out_prize_wins_nothing(factory, game_campaign) -> None:
    service.update_play_rules(game_campaign, {"per_day": 2, "per_referral": 0})
    service.add_prize(game_campaign, {"name": "Mug", "chance": "100", "inventory": 1})
    person = confirmed(factory, game_campaign)
    assert service.play(game_campaign, person).won
    second = service.play(game_campaign, person)
    assert not second.won and second.play.prize_id is None


def test_fifty_concurrent_plays_never_oversell(app, factory, game_campaign) -> None:
    service.add_prize(game_campaign, {"name": "Mug", "chance": "100", "inventory": 5})
    people = [confirmed(factory, game_campaign).id for _ in range(50)]
    campaign_id = game_campaign.id
    outcomes: list[object] = []

    def run(n: int) -> None:
        campaign = db.session.get(Campaign, campaign_id)
        outcomes.append(service.play(campaign, db.session.get(Participation, people[n])).won)

    assert race(app, len(people), run) == []
    assert sorted(map(repr, outcomes)) == ["False"] * 45 + ["True"] * 5
    db.session.rollback()
    assert db.session.scalar(select(InstantWinPrize.remaining)) == 0
    assert db.session.scalar(select(func.count()).select_from(InstantWinPlay)) == 50
    assert db.session.scalar(select(func.count()).where(InstantWinPlay.prize_id.is_not(None))) == 5


def test_twenty_concurrent_plays_of_one_person_use_one_allowance(
    app, factory, game_campaign
) -> None:
    person_id = confirmed(factory, game_campaign).id
    campaign_id = game_campaign.id
    outcomes: list[str] = []

    def run(_: int) -> None:
        campaign = db.session.get(Campaign, campaign_id)
        try:
            service.play(campaign, db.session.get(Participation, person_id))
            outcomes.append("played")
        except Conflict:
            outcomes.append("refused")

    assert race(app, 20, run) == []
    assert sorted(outcomes) == ["played"] + ["refused"] * 19
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(InstantWinPlay)) == 1
