"""Which rewards an event pays, to whom, at which level (see ``depth`` for the cap).

Rewards flow only between people who have confirmed their e-mail address (double opt-in):
an unconfirmed actor triggers nothing and an unconfirmed referrer receives nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from referral.domain.depth import may_pay
from referral.domain.errors import N_, Conflict

REWARD_EVENTS = (
    "signup_confirmed",
    "purchase",
    "trial_converted",
    "survey_completed",
    "lottery_entered",
)

# Events that exist because somebody was referred: "a referred friend confirms". Their
# level 0 is that friend, so it pays only a friend who has a (confirmed) referrer; someone
# who came on their own earns nothing from it.
REFERRAL_EVENTS = frozenset({"signup_confirmed"})

NOT_CONFIRMED = N_(
    "This participant has not confirmed their e-mail address yet; rewards flow only after "
    "double opt-in."
)


class NotConfirmed(Conflict):
    """Something was reported for a participant who has not confirmed their address."""

    title = N_("Not confirmed")
    problem_type = "/problems/not-confirmed"


@dataclass(frozen=True)
class Rule:
    id: int
    event: str | None
    milestone: int | None
    level: int
    reward: str
    amount: int


@dataclass(frozen=True)
class Payout:
    beneficiary_id: int
    level: int
    rule_id: int
    reward: str
    amount: int


def check_opted_in(confirmed: bool) -> None:
    """:raise NotConfirmed: unless the participant has confirmed their address."""
    if not confirmed:
        raise NotConfirmed(NOT_CONFIRMED)


def event_payouts(
    kind: str,
    chain: list[int],
    rules: list[Rule],
    reward_depth: int,
    ceiling: int,
    opted_in: Collection[int],
) -> list[Payout]:
    """Payouts for one event of ``kind`` by ``chain[0]``.

    ``chain`` is the actor then its referrers upward; ``opted_in`` holds the ids of those
    who have confirmed their address. Nothing is paid for an actor who has not; a rule pays
    ``chain[level]`` when that ancestor exists, has confirmed, and the depth cap allows the
    level for this kind of event — checked here again, at payment time, even though rules
    were checked when saved (the ceiling may have been lowered since). Level 0 of a referral
    event (:data:`REFERRAL_EVENTS`) pays only an actor whose referrer has confirmed.
    """
    if not chain or chain[0] not in opted_in:
        return []
    referred = len(chain) >= 2 and chain[1] in opted_in
    out = []
    for rule in rules:
        if rule.event != kind or rule.level >= len(chain):
            continue
        if chain[rule.level] not in opted_in:
            continue
        if rule.level == 0 and kind in REFERRAL_EVENTS and not referred:
            continue
        if not may_pay(rule.level, kind, reward_depth, ceiling):
            continue
        out.append(Payout(chain[rule.level], rule.level, rule.id, rule.reward, rule.amount))
    return out


def reached_milestones(rules: list[Rule], confirmed_referrals: int) -> list[Rule]:
    """Milestone rules whose threshold ``confirmed_referrals`` has reached."""
    return [r for r in rules if r.milestone is not None and confirmed_referrals >= r.milestone]


def milestone_payouts(
    rule: Rule,
    advocate_chain: list[int],
    reward_depth: int,
    ceiling: int,
    opted_in: Collection[int],
) -> list[Payout]:
    """The payout of a reached milestone: level 0 is the advocate who reached it.

    Milestones count sign-ups, so they are recruiting rewards: the cap allows them at
    levels 0 and 1 only (``depth.check_rule_level`` with event None). Nothing is paid while
    the advocate, or the beneficiary, has not confirmed their address.
    """
    if not advocate_chain or advocate_chain[0] not in opted_in:
        return []
    if rule.level >= len(advocate_chain) or not may_pay(rule.level, None, reward_depth, ceiling):
        return []
    beneficiary = advocate_chain[rule.level]
    if beneficiary not in opted_in:
        return []
    return [Payout(beneficiary, rule.level, rule.id, rule.reward, rule.amount)]


def within_caps(
    already_count: int,
    already_value: int,
    amount: int,
    cap_count: int | None,
    cap_value: int | None,
) -> bool:
    """Whether one more referral reward of ``amount`` keeps an advocate within the caps.

    ``cap_count`` bounds the number of referral rewards, ``cap_value`` their summed amount;
    None means no cap. Rewards to the actor themself (level 0) are not capped.
    """
    if cap_count is not None and already_count + 1 > cap_count:
        return False
    return not (cap_value is not None and already_value + amount > cap_value)
