"""The instant-win game: prize table, plays, allowance and a log of every play.

The outcome is decided here, on the server, from the CSPRNG (``domain.instant_win.roll``);
the page only animates what the stored play says. A prize is handed out by a conditional
``UPDATE … SET remaining = remaining - 1 WHERE remaining > 0``: of any number of concurrent
plays landing on the last item, exactly one gets it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as day_time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from referral.domain import instant_win as game
from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    InstantWinPlay,
    InstantWinPrize,
    Participation,
)
from referral.models.base import utcnow
from referral.services.events import record_event
from referral.services.joining import is_open
from referral.services.rewards import confirmed_referrals
from referral.services.rows import affected_rows
from referral.services.tx import _is_contention, atomic

# A play retries when a concurrent play took its sequence number or SQLite was busy.
ATTEMPTS = 60


# --- the prize table (admin) ----------------------------------------------------------------


def prizes(campaign: Campaign, active_only: bool = False) -> list[InstantWinPrize]:
    query = select(InstantWinPrize).where(InstantWinPrize.campaign_id == campaign.id)
    if active_only:
        query = query.where(InstantWinPrize.active.is_(True))
    return list(db.session.scalars(query.order_by(InstantWinPrize.id)))


def _other_ppm(campaign: Campaign, except_id: int | None = None) -> int:
    return sum(p.chance_ppm for p in prizes(campaign, active_only=True) if p.id != except_id)


def add_prize(campaign: Campaign, data: dict[str, Any]) -> InstantWinPrize:
    """Add a prize with its chance (percent) and stock.

    :raise ValidationFailed: bad name, chance, stock, or all prizes above 100 %.
    """
    cleaned = game.clean_prize(data, _other_ppm(campaign))
    prize = InstantWinPrize(
        campaign_id=campaign.id, remaining=cleaned["inventory"], active=True, **cleaned
    )
    db.session.add(prize)
    db.session.commit()
    return prize


def get_prize(campaign: Campaign, prize_id: int) -> InstantWinPrize:
    """:raise NotFound: a prize of another campaign (and so of another workspace)."""
    found = db.session.get(InstantWinPrize, prize_id) if 0 < prize_id < 2**31 else None
    if found is None or found.campaign_id != campaign.id:
        raise NotFound(N_("No such prize."))
    return found


def switch_prize(campaign: Campaign, prize_id: int, active: bool) -> InstantWinPrize:
    """Take a prize out of the game (or back in). Played prizes stay in the log.

    :raise ValidationFailed: switching it on would take all prizes above 100 %.
    """
    prize = get_prize(campaign, prize_id)
    if (
        active
        and not prize.active
        and _other_ppm(campaign, prize.id) + prize.chance_ppm > game.ROLLS
    ):
        raise ValidationFailed.on("chance", game.TOO_LIKELY)
    prize.active = active
    db.session.commit()
    return prize


def play_rules(campaign: Campaign) -> game.PlayRules:
    raw = (campaign.settings or {}).get("instant_win") or {}
    try:
        return game.clean_play_rules(
            {"per_day": raw.get("per_day", 1), "per_referral": raw.get("per_referral", 1)}
        )
    except Exception:  # stored settings broken by hand: the defaults
        return game.PlayRules()


def update_play_rules(campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """:raise ValidationFailed: counts outside 0..100."""
    rules = game.clean_play_rules(data)
    campaign.settings = {
        **(campaign.settings or {}),
        "instant_win": {"per_day": rules.per_day, "per_referral": rules.per_referral},
    }
    db.session.commit()
    return campaign


# --- playing ---------------------------------------------------------------------------------


def _start_of_day(now: datetime) -> datetime:
    return datetime.combine(now.date(), day_time.min, tzinfo=now.tzinfo)


def _usage(participation: Participation, moment: datetime) -> tuple[int, int, int]:
    """(all plays, the day's plays, bonus plays used) — read in one statement, so that the
    allowance and the next sequence number come from the same snapshot."""
    total, daily_today, bonus_used = db.session.execute(
        select(
            func.count(),
            func.count().filter(
                InstantWinPlay.bonus.is_(False), InstantWinPlay.created_at >= _start_of_day(moment)
            ),
            func.count().filter(InstantWinPlay.bonus.is_(True)),
        ).where(InstantWinPlay.participation_id == participation.id)
    ).one()
    return int(total), int(daily_today), int(bonus_used)


def _allowance(
    campaign: Campaign, participation: Participation, daily_today: int, bonus_used: int
) -> game.Allowance:
    return game.allowance(
        play_rules(campaign), confirmed_referrals(participation.id), daily_today, bonus_used
    )


def allowance(
    campaign: Campaign, participation: Participation, now: datetime | None = None
) -> game.Allowance:
    """Plays left for ``participation`` now (``per_day`` per UTC day + bonus per referral)."""
    _total, daily_today, bonus_used = _usage(participation, now or utcnow())
    return _allowance(campaign, participation, daily_today, bonus_used)


@dataclass(frozen=True)
class PlayResult:
    play: InstantWinPlay
    prize: InstantWinPrize | None
    left: game.Allowance

    @property
    def won(self) -> bool:
        return self.prize is not None and self.play.prize_id == self.prize.id


def _check_player(campaign: Campaign, participation: Participation) -> None:
    if campaign.kind != "instant_win" or participation.campaign_id != campaign.id:
        raise Conflict(N_("This campaign has no instant-win game."))
    if not is_open(campaign):
        raise Conflict(N_("The game is closed."))
    if participation.status != "confirmed":
        raise Conflict(N_("Please confirm your e-mail address before you play."))


def _take(prize: game.Prize | None) -> InstantWinPrize | None:
    """Take one item of the rolled prize from stock, atomically; None when it ran out."""
    if prize is None:
        return None
    taken = db.session.execute(
        update(InstantWinPrize)
        .where(
            InstantWinPrize.id == prize.id,
            InstantWinPrize.active.is_(True),
            InstantWinPrize.remaining > 0,
        )
        .values(remaining=InstantWinPrize.remaining - 1)
    )
    if affected_rows(taken) != 1:
        return None
    return db.session.get(InstantWinPrize, prize.id)


def _play_once(campaign: Campaign, participation: Participation, now: datetime) -> PlayResult:
    total, daily_today, bonus_used = _usage(participation, now)
    left = _allowance(campaign, participation, daily_today, bonus_used)
    game.check_can_play(left)
    # Plays are numbered 1, 2, 3, … without gaps, so a play that another one committed after
    # this count collides with it on (participation_id, seq) and this one counts again.
    seq = total + 1
    rolled = game.roll()
    play = InstantWinPlay(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        participation_id=participation.id,
        seq=seq,
        bonus=left.next_is_bonus,
        roll=rolled,
        created_at=now,
    )
    # Claim the sequence number first: a concurrent play with the same number fails here,
    # before it has taken anything from stock.
    with db.session.begin_nested():
        db.session.add(play)
    table = [
        game.Prize(p.id, p.name, p.chance_ppm, p.remaining)
        for p in prizes(campaign, active_only=True)
    ]
    won = _take(game.outcome(table, rolled))
    play.prize_id = won.id if won else None
    record_event(
        campaign.workspace_id,
        participation,
        "instant_win_played",
        data={"play_id": play.id, "won": won is not None, "prize": won.name if won else None},
        occurred_at=now,
    )
    db.session.commit()
    after = game.Allowance(
        left.daily_left - (0 if play.bonus else 1), left.bonus_left - (1 if play.bonus else 0)
    )
    return PlayResult(play, won, after)


@atomic
def play(campaign: Campaign, participation: Participation) -> PlayResult:
    """One play of a confirmed participant: allowance checked, outcome rolled on the server,
    stock taken atomically, the play logged and put on the customer's timeline.

    :raise Conflict: not an open instant-win campaign, not confirmed, or no play left.
    """
    _check_player(campaign, participation)
    for attempt in range(ATTEMPTS):
        try:
            return _play_once(campaign, participation, utcnow())
        except IntegrityError:
            db.session.rollback()  # a concurrent play took this number: count again
        except OperationalError as error:
            db.session.rollback()
            if not _is_contention(error):
                raise
        time.sleep(random.uniform(0.002, 0.01) * min(attempt + 1, 10))  # noqa: S311
    raise Conflict(N_("Too many plays at once. Please try again."))


def prize_of(play: InstantWinPlay | None) -> InstantWinPrize | None:
    """The prize a stored play won; None for no play or no prize."""
    return db.session.get(InstantWinPrize, play.prize_id) if play and play.prize_id else None


def last_play(participation: Participation) -> InstantWinPlay | None:
    return db.session.scalar(
        select(InstantWinPlay)
        .where(InstantWinPlay.participation_id == participation.id)
        .order_by(InstantWinPlay.seq.desc())
        .limit(1)
    )


def get_play(participation: Participation, play_id: int) -> InstantWinPlay | None:
    """One of the participant's own plays (None for anybody else's)."""
    found = db.session.get(InstantWinPlay, play_id) if 0 < play_id < 2**31 else None
    return found if found is not None and found.participation_id == participation.id else None


# --- what the marketer sees -----------------------------------------------------------------


@dataclass(frozen=True)
class GameStats:
    plays: int
    players: int
    wins: int


def stats(campaign: Campaign) -> GameStats:
    plays, players, wins = db.session.execute(
        select(
            func.count(),
            func.count(func.distinct(InstantWinPlay.participation_id)),
            func.count(InstantWinPlay.prize_id),
        ).where(InstantWinPlay.campaign_id == campaign.id)
    ).one()
    return GameStats(int(plays), int(players), int(wins))


def recent_plays(campaign: Campaign, limit: int = 50) -> list[tuple[InstantWinPlay, str, int]]:
    """The latest plays with the player's e-mail and customer id, newest first."""
    rows = db.session.execute(
        select(InstantWinPlay, Customer.email_display, Customer.id)
        .join(Participation, Participation.id == InstantWinPlay.participation_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(InstantWinPlay.campaign_id == campaign.id)
        .order_by(InstantWinPlay.id.desc())
        .limit(limit)
    ).all()
    return [(p, email, cid) for p, email, cid in rows]
