"""Reward rules: saved only within the depth cap, and never selling draw entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from referral.domain import sweepstakes
from referral.domain.depth import check_rule_level, deepest_level
from referral.domain.errors import N_, Message, ValidationFailed
from referral.domain.rewards import REWARD_EVENTS
from referral.extensions import db
from referral.models import REWARDS, Campaign, RewardRule
from referral.services.campaigns import audit_depth_refused, ceiling
from referral.services.cursors import CursorPage, page
from referral.services.tx import atomic

AMOUNT_MAX = 10_000_000
MILESTONE_MAX = 10_000
FieldErrors = dict[str, list[str | Message]]
NOT_WHOLE = N_("Must be a whole number.")
NUMBERS = ("milestone", "level", "amount")


def _choose(choices: tuple[str, ...]) -> list[str | Message]:
    return [Message(N_("Choose one of: %(choices)s."), {"choices": ", ".join(choices)})]


def _int(data: dict[str, Any], name: str, errors: FieldErrors) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors[name] = [NOT_WHOLE]
        return None
    try:
        return int(value)
    except ValueError:
        errors[name] = [NOT_WHOLE]
        return None


def _check_trigger(event: str | None, milestone: int | None, errors: FieldErrors) -> None:
    """What pays: an ``event`` or a ``milestone`` of confirmed referrals, exactly one."""
    if (event is None) == (milestone is None) and "milestone" not in errors:
        errors["event"] = [N_("Give either an event or a milestone, not both.")]
    if event is not None and event not in REWARD_EVENTS:
        errors["event"] = _choose(REWARD_EVENTS)
    if milestone is not None and not 1 <= milestone <= MILESTONE_MAX:
        errors["milestone"] = [
            Message(
                N_("A milestone is a number of confirmed referrals, 1 to %(max)s."),
                {"max": MILESTONE_MAX},
            )
        ]


def _check_payout(data: dict[str, Any], amount: int | None, errors: FieldErrors) -> str | None:
    """How much of which reward: the ``amount``, and for cash a ``currency`` (returned)."""
    if data.get("reward") not in REWARDS:
        errors["reward"] = _choose(REWARDS)
    if amount is None and "amount" not in errors:
        errors["amount"] = [N_("Give the amount (points, entries, coupons or cash in cents).")]
    elif amount is not None and not 0 < amount <= AMOUNT_MAX:
        errors["amount"] = [
            Message(N_("The amount must be between 1 and %(max)s."), {"max": AMOUNT_MAX})
        ]
    currency = (data.get("currency") or "").upper() or None
    if data.get("reward") == "cash" and (
        not currency or len(currency) != 3 or not currency.isalpha()
    ):
        errors["currency"] = [N_("Cash rewards need a three-letter currency code, e.g. EUR.")]
    return currency


def _clean_rule(data: dict[str, Any]) -> dict[str, Any]:
    """Shape checks of a rule's fields, all problems at once.

    :raise ValidationFailed: naming each bad field.
    """
    errors: FieldErrors = {}
    milestone, level, amount = (_int(data, name, errors) for name in NUMBERS)
    event = data.get("event") or None
    _check_trigger(event, milestone, errors)
    if level is None and "level" not in errors:
        errors["level"] = [N_("Give the level: 0 for the actor, 1 for the direct referrer, …")]
    currency = _check_payout(data, amount, errors)
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return {
        "event": event,
        "milestone": milestone,
        "level": level,
        "reward": data["reward"],
        "amount": amount,
        "currency": currency,
    }


def _check_level(
    campaign: Campaign,
    values: dict[str, Any],
    *,
    actor: str,
    marketer_id: int | None,
    ip_hash: str | None,
) -> None:
    """The depth cap; a level deeper than it allows is refused and audited
    (``reward_depth.refused``, with the requested and the allowed level).

    :raise ValidationFailed: on ``level``.
    """
    level, event, depth, top = values["level"], values["event"], campaign.reward_depth, ceiling()
    try:
        check_rule_level(level, event, depth, top)
    except ValidationFailed:
        allowed = deepest_level(event, depth, top)
        if level > allowed:
            audit_depth_refused(
                campaign.workspace_id,
                f"campaign:{campaign.id}",
                field="level",
                requested=level,
                allowed=allowed,
                actor=actor,
                marketer_id=marketer_id,
                ip_hash=ip_hash,
                extra={"event": event, "milestone": values["milestone"], "reward_depth": depth},
            )
        raise


@atomic
def add_rule(
    campaign: Campaign,
    data: dict[str, Any],
    *,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> RewardRule:
    """A new reward rule for ``campaign``; ``actor``/``marketer_id`` and ``ip_hash`` say who
    asked, for the audit log.

    :raise ValidationFailed: bad fields; a level the depth cap forbids (deeper than the
        campaign's reward depth or the server ceiling; level 2+ for anything but purchases and
        converted trials; milestones above level 1), which is audited; or, in a prize draw,
        draw entries for a purchase or a paid plan (no purchase necessary) — 422 with the
        reason.
    """
    values = _clean_rule(data)
    _check_level(campaign, values, actor=actor, marketer_id=marketer_id, ip_hash=ip_hash)
    sweepstakes.check_rule(campaign.kind, values["event"], values["reward"])
    rule = RewardRule(campaign_id=campaign.id, **values)
    db.session.add(rule)
    return rule


@atomic
def deactivate_rule(rule: RewardRule) -> RewardRule:
    """Stop a rule from paying (paid lines stay in the ledger)."""
    rule.active = False
    return rule


def rule_page(campaign: Campaign, limit: int | None, cursor: str | None) -> CursorPage[RewardRule]:
    """A page of the campaign's rules, oldest first.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = select(RewardRule).where(RewardRule.campaign_id == campaign.id)
    return page(query, RewardRule.id, limit, cursor)
