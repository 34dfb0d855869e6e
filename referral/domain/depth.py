"""The reward depth cap: what stops a referral programme from becoming a pyramid scheme.

Levels: 0 is the actor (double-sided rewards), 1 the direct referrer, 2 their referrer, …
- A campaign pays at most ``reward_depth`` levels up (default 1).
- The operator's ceiling ``REFERRAL_MAX_REWARD_DEPTH`` (default 2) bounds every campaign and
  can itself never exceed ``HARD_CEILING`` (3).
- Levels 2 and above pay only for real customer actions (a purchase, a converted trial),
  never for a sign-up: paying people for recruiting recruiters is the pyramid.
The cap is checked when a rule is saved and again when a reward is paid.
"""

from __future__ import annotations

from typing import SupportsIndex, SupportsInt

from referral.domain.errors import N_, ValidationFailed

HARD_CEILING = 3
DEFAULT_CEILING = 2
DEFAULT_REWARD_DEPTH = 1

# Event kinds that are real customer value, and so may pay levels >= 2.
VALUE_EVENTS = frozenset({"purchase", "trial_converted"})


def _as_int(value: object) -> int:
    """``int(value)`` for any value: TypeError for what ``int()`` cannot read, ValueError for
    text that is not a whole number."""
    if isinstance(value, str | bytes | bytearray | SupportsInt | SupportsIndex):
        return int(value)
    raise TypeError(f"not a number: {type(value).__name__}")


def operator_ceiling(configured: object) -> int:
    """The ceiling from configuration, clamped into 0..HARD_CEILING.

    :raise ValueError: when the setting is not a whole number (a start-up error).
    """
    value = int(str(configured).strip())
    if value < 0:
        raise ValueError("REFERRAL_MAX_REWARD_DEPTH must be 0 or more")
    return min(value, HARD_CEILING)


def check_reward_depth(reward_depth: object, ceiling: int) -> int:
    """A campaign's ``reward_depth`` as an int within 0..ceiling.

    :raise ValidationFailed: on field ``reward_depth`` with the reason.
    """
    try:
        depth = _as_int(reward_depth)
    except (TypeError, ValueError):
        raise ValidationFailed.on(
            "reward_depth", N_("Reward depth must be a whole number.")
        ) from None
    if isinstance(reward_depth, bool) or depth < 0:
        raise ValidationFailed.on("reward_depth", N_("Reward depth must be 0 or more."))
    if depth > ceiling:
        raise ValidationFailed.on(
            "reward_depth",
            N_(
                "Reward depth %(depth)s is above this server's ceiling of %(ceiling)s levels "
                "(REFERRAL_MAX_REWARD_DEPTH); deeper rewards would pay for recruiting."
            ),
            {"depth": depth, "ceiling": ceiling},
        )
    return depth


def above_ceiling(reward_depth: object, ceiling: int) -> int | None:
    """The requested depth when it is a whole number above ``ceiling`` (a refusal worth
    auditing: someone tried to pay deeper than this server allows); else None."""
    if isinstance(reward_depth, bool):
        return None
    try:
        depth = _as_int(reward_depth)
    except (TypeError, ValueError):
        return None
    return depth if depth > ceiling else None


def deepest_level(event: str | None, reward_depth: int, ceiling: int) -> int:
    """The deepest level a rule on ``event`` may pay: the campaign's depth within the
    ceiling, and at most 1 for anything but a real customer action (milestones included)."""
    limit = min(reward_depth, ceiling)
    return limit if event in VALUE_EVENTS else min(limit, 1)


def check_rule_level(level: int, event: str | None, reward_depth: int, ceiling: int) -> None:
    """Whether a reward rule paying ``level`` on ``event`` may exist in this campaign.

    ``event`` is None for milestone rules, which count sign-ups and so are recruiting
    rewards: they may pay level 0 or 1 only.

    :raise ValidationFailed: on field ``level`` saying which limit it breaks.
    """
    if level < 0:
        raise ValidationFailed.on("level", N_("Level must be 0 (the actor) or more."))
    limit = min(reward_depth, ceiling)
    if level > limit:
        raise ValidationFailed.on(
            "level",
            N_(
                "Level %(level)s is deeper than this campaign pays (reward depth %(depth)s, "
                "server ceiling %(ceiling)s)."
            ),
            {"level": level, "depth": reward_depth, "ceiling": ceiling},
        )
    if level >= 2 and event not in VALUE_EVENTS:
        raise ValidationFailed.on(
            "level",
            N_(
                "Levels 2 and deeper may only pay for purchases or converted trials, never for "
                "sign-ups: rewarding recruitment is what makes a pyramid scheme."
            ),
        )


def may_pay(level: int, event: str | None, reward_depth: int, ceiling: int) -> bool:
    """The same rule as :func:`check_rule_level`, asked again at payment time."""
    try:
        check_rule_level(level, event, reward_depth, ceiling)
    except ValidationFailed:
        return False
    return True
