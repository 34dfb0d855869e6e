"""Badges, milestones and the leaderboard's order."""

from __future__ import annotations

from dataclasses import dataclass

# (confirmed referrals, badge key). Keys are stable; names are translated by the views.
BADGES = (
    (1, "first_friend"),
    (3, "connector"),
    (5, "ambassador"),
    (10, "champion"),
    (25, "legend"),
)


@dataclass(frozen=True)
class Progress:
    confirmed: int
    badges: list[str]
    next_target: int | None
    remaining: int
    percent: int


def badges_for(confirmed: int) -> list[str]:
    return [key for threshold, key in BADGES if confirmed >= threshold]


def progress(confirmed: int, milestones: list[int]) -> Progress:
    """Badges earned and the distance to the next target (a milestone reward or a badge).

    ``percent`` is the progress from the previous target to the next one, 0..100, so the bar
    starts afresh after every step instead of crawling towards a far goal.
    """
    targets = sorted({*milestones, *(t for t, _ in BADGES)})
    upcoming = [t for t in targets if t > confirmed]
    if not upcoming:
        return Progress(confirmed, badges_for(confirmed), None, 0, 100)
    target = upcoming[0]
    previous = max([0, *(t for t in targets if t <= confirmed)])
    percent = int(100 * (confirmed - previous) / (target - previous))
    return Progress(confirmed, badges_for(confirmed), target, target - confirmed, percent)


def rank_key(
    confirmed: int, reached_at_epoch: float, participation_id: int
) -> tuple[float, float, int]:
    """Leaderboard order: more confirmed referrals first; on a tie, whoever reached that number
    first (the earlier confirmation of their latest referral); then the earlier participant."""
    return (-confirmed, reached_at_epoch, participation_id)
