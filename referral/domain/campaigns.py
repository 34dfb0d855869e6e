"""What makes a campaign valid, and which state changes it allows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from referral.domain.depth import check_reward_depth
from referral.domain.errors import N_, Conflict, Message, ValidationFailed
from referral.domain.slugs import check_slug

KINDS = ("referral", "lottery", "survey", "trial", "instant_win")
LOCALES = ("en", "de", "nl", "zh_Hans", "zh_Hant")
NAME_MAX = 120
DESCRIPTION_MAX = 5000

# Templates for _bounded_int: not a whole number, and out of range (%(low)s..%(high)s).
ATTRIBUTION_MESSAGES = (
    N_("Attribution window must be a whole number."),
    N_("Attribution window must be between %(low)s and %(high)s."),
)
HOLD_MESSAGES = (
    N_("Hold period must be a whole number."),
    N_("Hold period must be between %(low)s and %(high)s."),
)

# Official rules a lottery must publish before it opens (DESIGN invariant 5).
LOTTERY_RULE_FIELDS = (
    "sponsor",
    "sponsor_address",
    "timezone",
    "regions",
    "min_age",
    "entry_limit",
    "prizes",
    "winners",
    "alternates",
    "claim_days",
    "free_entry_method",
)


@dataclass
class CampaignInput:
    """Cleaned campaign fields; ``None`` means "not given" (keep / default)."""

    values: dict[str, Any] = field(default_factory=dict)


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[Message]] = {}

    def add(self, name: str, message: str, params: dict[str, Any] | None = None) -> None:
        self.errors.setdefault(name, []).append(Message(message, params or {}))

    def collect(self, name: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationFailed as exc:
            for field_name, messages in exc.messages.items():
                for message in messages:
                    self.errors.setdefault(field_name or name, []).append(message)
            return None


def _parse_time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed.on(
                name, N_("Use a date and time like %(example)s."), {"example": "2026-12-01T09:00"}
            ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _bounded_int(value: Any, name: str, low: int, high: int, messages: tuple[str, str]) -> int:
    """``messages``: the templates for "not a whole number" and "out of %(low)s..%(high)s"."""
    not_whole, out_of_range = messages
    if isinstance(value, bool):
        raise ValidationFailed.on(name, not_whole)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.on(name, not_whole) from None
    if not low <= number <= high:
        raise ValidationFailed.on(name, out_of_range, {"low": low, "high": high})
    return number


def _check_locales(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed.on("locales", N_("Give a list of locales."))
    unknown = [v for v in value if v not in LOCALES]
    if unknown:
        raise ValidationFailed.on(
            "locales",
            N_("Unknown locale %(locale)s; choose from %(choices)s."),
            {"locale": repr(unknown[0]), "choices": ", ".join(LOCALES)},
        )
    return list(dict.fromkeys(value))


def clean_campaign(data: dict[str, Any], ceiling: int, *, partial: bool = False) -> dict[str, Any]:
    """Validate campaign fields; returns only the given fields, cleaned.

    On create (``partial=False``) ``name`` and ``kind`` are required. All problems are
    reported together.

    :raise ValidationFailed: naming each bad field.
    """
    out: dict[str, Any] = {}
    errs = _Errors()
    _clean_identity(data, partial, errs, out)
    _clean_settings(data, ceiling, errs, out)
    if errs.errors:
        raise ValidationFailed(N_("Some fields are not valid."), errs.errors)
    return out


def _clean_identity(
    data: dict[str, Any], partial: bool, errs: _Errors, out: dict[str, Any]
) -> None:
    """Name, kind, web address and description."""
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            errs.add("name", N_("Give the campaign a name."))
        elif len(name) > NAME_MAX:
            errs.add("name", N_("Keep the name to %(max)s characters."), {"max": NAME_MAX})
        else:
            out["name"] = name
    if "kind" in data or not partial:
        if data.get("kind") not in KINDS:
            errs.add("kind", N_("Choose one of: %(choices)s."), {"choices": ", ".join(KINDS)})
        else:
            out["kind"] = data["kind"]
    if data.get("slug"):
        out["slug"] = errs.collect("slug", check_slug, str(data["slug"]).strip().lower())
    if "description" in data:
        text = str(data.get("description") or "")
        if len(text) > DESCRIPTION_MAX:
            errs.add(
                "description",
                N_("Keep the description to %(max)s characters."),
                {"max": DESCRIPTION_MAX},
            )
        out["description"] = text


def _clean_settings(data: dict[str, Any], ceiling: int, errs: _Errors, out: dict[str, Any]) -> None:
    """Reward depth, attribution window, hold period, dates and languages."""
    if "reward_depth" in data and data["reward_depth"] is not None:
        out["reward_depth"] = errs.collect(
            "reward_depth", check_reward_depth, data["reward_depth"], ceiling
        )
    for name, low, high, messages in (
        ("attribution_days", 1, 365, ATTRIBUTION_MESSAGES),
        ("hold_days", 0, 365, HOLD_MESSAGES),
    ):
        if name in data and data[name] is not None:
            out[name] = errs.collect(name, _bounded_int, data[name], name, low, high, messages)
    for name in ("starts_at", "ends_at"):
        if name in data:
            out[name] = errs.collect(name, _parse_time, data[name], name)
    if "locales" in data and data["locales"] is not None:
        out["locales"] = errs.collect("locales", _check_locales, data["locales"])


def check_dates(starts_at: datetime | None, ends_at: datetime | None) -> None:
    """:raise ValidationFailed: on ``ends_at`` when the campaign would end before it starts."""
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationFailed.on("ends_at", N_("The end must come after the start."))


def missing_lottery_rules(rules: dict[str, Any] | None) -> list[str]:
    """The official-rules fields a lottery still lacks (empty list: ready to publish)."""
    rules = rules or {}
    return [name for name in LOTTERY_RULE_FIELDS if rules.get(name) in (None, "", [], {})]


def check_publishable(
    kind: str,
    status: str,
    settings: dict[str, Any],
    *,
    questions: int | None = None,
    prizes: int | None = None,
) -> None:
    """A draft may go live; a lottery only with complete official rules, a survey only with
    a question to answer, an instant-win game only with a prize that can be won (switched on
    and in stock). ``questions`` and ``prizes`` are those counts (``None``: not counted).

    :raise Conflict: when the campaign is not a draft.
    :raise ValidationFailed: naming each missing rules field of a lottery (``rules.…``), on
        ``questions`` for a survey without any, on ``prizes`` for a game without a prize.
    """
    if status != "draft":
        raise Conflict(
            N_("Only a draft can be published; this campaign is %(status)s."),
            params={"status": status},
        )
    if kind == "survey" and questions == 0:
        raise ValidationFailed.on(
            "questions", N_("A survey needs at least one question before it goes live.")
        )
    if kind == "instant_win" and prizes == 0:
        raise ValidationFailed.on(
            "prizes",
            N_("An instant-win game needs a prize that can be won before it goes live."),
        )
    if kind == "lottery":
        missing = missing_lottery_rules(settings.get("rules"))
        if missing:
            required = N_("This official-rules field is required.")
            raise ValidationFailed(
                N_("A prize draw needs its official rules before it opens."),
                {f"rules.{name}": [required] for name in missing},
            )


def check_closable(status: str) -> None:
    """:raise Conflict: unless the campaign is live."""
    if status != "live":
        raise Conflict(
            N_("Only a live campaign can be closed; this campaign is %(status)s."),
            params={"status": status},
        )


# What closing does, said on the page that asks to confirm it. Each line is what the services
# do with a closed campaign: ``services.joining.is_open`` lets no one join,
# ``services.campaigns.check_editable`` refuses every change, ``services.lottery``
# freezes a draw's entries (confirmed participations only) and ``services.rewards`` pays no
# entries after it, ``services.surveys`` and ``services.instant_win`` take no answers or
# plays; rewards, reviews and running trials carry on.
CLOSING_EFFECTS = (
    N_("No one can join any more: the landing page says the campaign is closed."),
    N_("A closed campaign can no longer be changed."),
)
CLOSING_EFFECTS_BY_KIND = {
    "lottery": (
        N_(
            "The entries freeze: each confirmed participant keeps the entries they hold now, "
            "the digest of the entries is published, and no bonus entries are paid after it."
        ),
        N_("Sign-ups held for review or not yet confirmed get no entry."),
        N_("Close the campaign to freeze the entries; then you can draw the winners."),
    ),
    "survey": (N_("No more answers are taken."),),
    "instant_win": (N_("The game is closed."),),
    "trial": (N_("Free trials already running go on to their end, reminders included."),),
}
CLOSING_KEEPS = N_(
    "Rewards already earned stay as they are: pending ones are approved when their hold "
    "period ends, and sign-ups held for review still wait for your decision."
)


def closing_effects(kind: str) -> tuple[str, ...]:
    """What closing a campaign of ``kind`` does, as untranslated messages, in reading order."""
    return (*CLOSING_EFFECTS, *CLOSING_EFFECTS_BY_KIND.get(kind, ()), CLOSING_KEEPS)
