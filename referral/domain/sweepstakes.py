"""No purchase necessary (DESIGN invariant 5): in a prize draw, paying never buys a chance.

Sweepstakes law requires the free way in to weigh the same as any paid one. So in a lottery
campaign no reward rule may give draw entries for a paid event (a purchase, a trial turned
into a paid plan); such rules are refused when saved, skipped when paying, and a draw whose
campaign still has one active cannot be closed. Entries for free actions (confirming a
referred friend, a survey, a milestone) stay allowed: anyone can earn them without paying.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from referral.domain.errors import N_, Conflict, ValidationFailed

# What costs the participant money.
PAID_EVENTS = frozenset({"purchase", "trial_converted"})

PAID_ENTRIES = N_(
    "A prize draw cannot give draw entries for a purchase or a paid plan: people who enter "
    "for free must have the same chance (no purchase necessary). Give points, a coupon or "
    "cash for it instead."
)
CLOSE_REFUSED = N_(
    "Reward rule %(rule)s gives draw entries for %(event)s, so buyers would have a better "
    "chance than people who entered for free (no purchase necessary). Switch the rule off "
    "on the reward rules page, then close the draw."
)


class RuleLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def event(self) -> str | None: ...
    @property
    def reward(self) -> str: ...


def buys_entries(campaign_kind: str, event: str | None, reward: str) -> bool:
    """Whether a rule paying ``reward`` on ``event`` would sell draw entries."""
    return campaign_kind == "lottery" and reward == "entries" and event in PAID_EVENTS


def check_rule(campaign_kind: str, event: str | None, reward: str) -> None:
    """:raise ValidationFailed: on ``reward`` when the rule would sell draw entries."""
    if buys_entries(campaign_kind, event, reward):
        raise ValidationFailed.on("reward", PAID_ENTRIES)


def check_closable(campaign_kind: str, active_rules: Iterable[RuleLike]) -> None:
    """Before a draw's entries freeze: no active rule may still sell entries (one may have
    been saved before this check existed, or written to the database directly).

    :raise Conflict: naming the first such rule and its event.
    """
    for rule in sorted(active_rules, key=lambda r: r.id):
        if buys_entries(campaign_kind, rule.event, rule.reward):
            raise Conflict(CLOSE_REFUSED, params={"rule": rule.id, "event": rule.event})
