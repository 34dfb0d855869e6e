"""The demo's free trial and instant-win game: seeded once, with conversions and plays."""

from __future__ import annotations

from sqlalchemy import func, select

from referral.demo.games import GAME_SLUG, TRIAL_SLUG, seed_demo_game, seed_demo_trial
from referral.extensions import db
from referral.models import Campaign, InstantWinPlay, Trial
from referral.services import trials
from tests.factories import Factory


def counts() -> tuple[int, int, int]:
    db.session.commit()
    return (
        db.session.scalar(select(func.count()).select_from(Campaign)),
        db.session.scalar(select(func.count()).select_from(Trial)),
        db.session.scalar(select(func.count()).select_from(InstantWinPlay)),
    )


def test_the_demo_seeds_a_trial_with_conversions_and_a_game_with_plays_once(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    seed_demo_trial(workspace.id)
    seed_demo_game(workspace.id)
    first = counts()
    trial = db.session.scalar(select(Campaign).where(Campaign.slug == TRIAL_SLUG))
    funnel = trials.funnel(trial)
    assert funnel.signed_up > funnel.confirmed >= funnel.active > funnel.converted > 0
    assert funnel.ended > 0 and funnel.running > 0
    game = db.session.scalar(select(Campaign).where(Campaign.slug == GAME_SLUG))
    assert game.status == "live" and first[2] > 10
    seed_demo_trial(workspace.id)
    seed_demo_game(workspace.id)
    assert counts() == first
