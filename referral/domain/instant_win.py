"""Instant-win game rules: prize odds, the outcome of one roll, and how many plays a person
has left. Pure Python; the roll itself comes from the operating system's CSPRNG."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from referral.domain.errors import N_, Conflict, ValidationFailed

# Chances are whole parts per million: a roll is a uniform integer in 0..ROLLS-1.
ROLLS = 1_000_000
NAME_MAX = 120
INVENTORY_MAX = 1_000_000
PLAYS_PER_DAY_MAX = 100
PLAYS_PER_REFERRAL_MAX = 100
TOO_LIKELY = N_("The chances of all prizes together may not exceed 100 percent.")


@dataclass(frozen=True)
class Prize:
    id: int
    name: str
    chance_ppm: int
    remaining: int


@dataclass(frozen=True)
class PlayRules:
    """``per_day`` plays each UTC day (unused ones do not carry over) plus ``per_referral``
    bonus plays for every confirmed referral (they keep until used)."""

    per_day: int = 1
    per_referral: int = 1


@dataclass(frozen=True)
class Allowance:
    daily_left: int
    bonus_left: int

    @property
    def total(self) -> int:
        return self.daily_left + self.bonus_left

    @property
    def next_is_bonus(self) -> bool:
        """Plays of the day are used before bonus plays (bonus plays keep, daily ones do not)."""
        return self.daily_left == 0 and self.bonus_left > 0


def roll() -> int:
    """A uniform integer in 0..ROLLS-1 from the CSPRNG (``secrets``), never ``random``."""
    return secrets.randbelow(ROLLS)


def outcome(prizes: list[Prize], rolled: int) -> Prize | None:
    """The prize a roll lands on, or None for no prize.

    The prizes (in the given order, usually by id) each own a band of ``chance_ppm``
    consecutive numbers starting at 0; a roll beyond the last band wins nothing. A prize
    that has run out keeps its band, so its odds do not shift to the others: landing on it
    wins nothing. (The service makes the same check again at the database, atomically.)
    """
    if not 0 <= rolled < ROLLS:
        raise ValueError("roll out of range")
    edge = 0
    for prize in prizes:
        edge += prize.chance_ppm
        if rolled < edge:
            return prize if prize.remaining > 0 else None
    return None


def allowance(
    rules: PlayRules, confirmed_referrals: int, daily_used_today: int, bonus_used: int
) -> Allowance:
    """What a participant may still play now."""
    daily_left = max(0, rules.per_day - daily_used_today)
    bonus_left = max(0, rules.per_referral * confirmed_referrals - bonus_used)
    return Allowance(daily_left, bonus_left)


def check_can_play(left: Allowance) -> None:
    """:raise Conflict: when no play is left."""
    if left.total <= 0:
        raise Conflict(
            N_("No plays left for now. Come back tomorrow, or invite a friend for a bonus play.")
        )


def percent(chance_ppm: int) -> str:
    """A chance as a percentage with no trailing zeros: 25000 → "2.5", 1 → "0.0001"."""
    value = Decimal(chance_ppm) / Decimal(ROLLS // 100)
    text = format(value.normalize(), "f")
    return text


def one_in(chance_ppm: int) -> int:
    """The chance as "1 in N" (N rounded to the nearest whole number, at least 1)."""
    return max(1, round(ROLLS / chance_ppm))


def _chance(value: Any) -> int:
    """A percentage (up to four decimals, e.g. "2.5") → parts per million."""
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.on(
            "chance", N_("Give the chance as a percentage, e.g. 2.5.")
        ) from None
    ppm = number * (ROLLS // 100)
    if not number.is_finite() or ppm != ppm.to_integral_value():
        raise ValidationFailed.on("chance", N_("Use at most four decimals."))
    if not 1 <= ppm <= ROLLS:
        raise ValidationFailed.on(
            "chance", N_("The chance must be between 0.0001 and 100 percent.")
        )
    return int(ppm)


def clean_prize(data: dict[str, Any], other_ppm: int) -> dict[str, Any]:
    """Validate a prize row: ``name``, ``chance`` (percent) and ``inventory`` (whole ≥ 0).

    ``other_ppm`` is the sum of the campaign's other active prizes: together they may not
    exceed 100 %.

    :raise ValidationFailed: naming each bad field.
    """
    errors: dict[str, list[Any]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [N_("Give the prize a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [N_("Keep the name to 120 characters.")]
    chance = 0
    try:
        chance = _chance(data.get("chance"))
    except ValidationFailed as error:
        errors.update(error.messages)
    if chance and other_ppm + chance > ROLLS:
        errors["chance"] = [TOO_LIKELY]
    inventory = data.get("inventory")
    if isinstance(inventory, bool) or not isinstance(inventory, int):
        errors["inventory"] = [N_("Give the number of prizes as a whole number.")]
    elif not 0 <= inventory <= INVENTORY_MAX:
        errors["inventory"] = [N_("Give between 0 and 1,000,000 prizes.")]
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return {"name": name, "chance_ppm": chance, "inventory": inventory}


def clean_play_rules(data: dict[str, Any]) -> PlayRules:
    """:raise ValidationFailed: unless both counts are whole numbers within their bounds."""
    errors: dict[str, list[Any]] = {}
    values = {}
    for name, high in (("per_day", PLAYS_PER_DAY_MAX), ("per_referral", PLAYS_PER_REFERRAL_MAX)):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            errors[name] = [N_("Give a whole number from 0 to 100.")]
        else:
            values[name] = value
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return PlayRules(**values)
