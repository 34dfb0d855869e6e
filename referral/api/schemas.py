"""Marshmallow schemas: the shapes of the API (types only; business rules live in domain).

Input schemas reject unknown fields, so a misspelt field is a 422 that names it rather than
a silently ignored value. Output schemas list what is always there; clients must accept
fields added later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from flask import current_app
from marshmallow import INCLUDE, ValidationError, missing, post_dump, pre_dump

from referral.domain import campaign_content as content
from referral.domain.campaigns import DESCRIPTION_MAX, KINDS, LOCALES, NAME_MAX
from referral.models.campaign import STATUSES
from referral.services import lottery
from referral.services.cursors import (
    CURSOR_ERROR,
    CURSOR_MAX,
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    MAX_LIMIT,
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


# "No NUL character", as the OpenAPI document states it for every text field without a
# pattern of its own.
NO_NUL = "^[^\\u0000]*$"


class Text(String):
    """A string the databases can store: no NUL characters, no lone surrogates."""

    def __init__(self, **kwargs: Any) -> None:
        validators = kwargs.get("validate") or []
        validators = validators if isinstance(validators, list | tuple) else [validators]
        if not any(isinstance(v, Regexp) for v in validators):
            kwargs["metadata"] = {"pattern": NO_NUL, **(kwargs.get("metadata") or {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Must be valid Unicode text.") from None
        return text


class Time(DateTime):
    """An ISO 8601 date and time; one without an offset is taken as UTC."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("This date is out of range.") from None
        if not EARLIEST <= parsed < LATEST:
            raise ValidationError("Use a date between 1970 and 9998.")
        return parsed


class Whole(Integer):
    """A whole number as JSON Schema means it: ``2`` and ``2.0``, never ``"2"``, ``2.5``
    or ``true``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Flag(Boolean):
    """A JSON boolean: ``true`` or ``false`` only, never ``"yes"``, ``"true"`` or ``1``."""

    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError("Use an IANA time zone name such as Europe/Amsterdam.")


def _count(low: int, high: int | None = None, **meta: Any) -> Integer:
    return Whole(validate=Range(min=low, max=high), metadata=meta)


class Prize(Schema):
    name = Text(required=True, validate=Length(1, 200))
    value = _count(0, description="Value in minor units of the currency (cents).")
    currency = Text(validate=Regexp(r"^[A-Z]{3}\Z"), metadata={"description": "ISO 4217 code."})
    quantity = _count(1)


class LotteryRules(Schema):
    """Official rules of a prize draw. Each field is optional until the draw is published;
    publishing names each one still missing."""

    sponsor = Text(validate=Length(1, 200))
    sponsor_address = Text(validate=Length(1, 500))
    timezone = Text(
        validate=[Length(1, 64), _check_timezone],
        metadata={"description": "An IANA time zone name.", "enum": sorted(_timezones())},
    )
    regions = List(
        Text(validate=Regexp(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")),
        validate=Length(max=300),
        metadata={"description": "ISO 3166 codes of the regions where one may enter."},
    )
    min_age = _count(0, 150)
    entry_limit = _count(1)
    prizes = List(Nested(Prize), validate=Length(max=100))
    winners = _count(1, 10_000)
    alternates = _count(0, 10_000)
    claim_days = _count(1, 365)
    free_entry_method = Text(validate=Length(1, 2000))


class TranslationIn(Schema):
    """A campaign's words in one language other than its default."""

    name = Text(required=True, validate=Length(1, NAME_MAX))
    description = Text(validate=Length(0, DESCRIPTION_MAX))
    benefit = Text(validate=Length(0, content.BENEFIT_MAX))
    consent_text = Text(
        validate=Length(0, content.CONSENT_MAX),
        metadata={
            "description": "The whole consent sentence in this language; empty for "
            "the standard one."
        },
    )


TranslationsIn = Schema.from_dict(
    {locale: Nested(TranslationIn, allow_none=True) for locale in LOCALES},
    name="TranslationsIn",
)


class CampaignIn(Schema):
    name = Text(required=True, validate=Length(1, NAME_MAX))
    kind = Text(required=True, validate=OneOf(KINDS))
    slug = Text(
        validate=Length(1, 64),
        metadata={
            "description": "The address of the landing page, /c/{slug}: lower-case letters, "
            "digits and dashes. Made from the name when not given."
        },
    )
    description = Text(validate=Length(0, DESCRIPTION_MAX))
    reward_depth = Whole(
        metadata={
            "minimum": 0,
            "description": "How many levels up rewards are paid (0 to this server's ceiling, "
            "REFERRAL_MAX_REWARD_DEPTH); default 1.",
        },
    )
    attribution_days = Whole(metadata={"minimum": 1, "maximum": 365})
    hold_days = Whole(metadata={"minimum": 0, "maximum": 365})
    starts_at = Time(allow_none=True)
    ends_at = Time(allow_none=True, metadata={"description": "After starts_at."})
    locales = List(Text(validate=OneOf(LOCALES)), validate=Length(min=1))
    rules = Nested(
        LotteryRules,
        metadata={"description": "Official rules (prize draws); frozen once published."},
    )
    default_locale = Text(
        validate=OneOf(LOCALES),
        metadata={
            "description": "The language of name, description, benefit and "
            "consent_text; one of locales (default: the first)."
        },
    )
    benefit = Text(
        validate=Length(0, content.BENEFIT_MAX),
        metadata={"description": "A line on the landing page saying what one gets."},
    )
    consent_text = Text(
        validate=Length(0, content.CONSENT_MAX),
        metadata={
            "description": "The campaign's own consent sentence (empty: the standard "
            "one); a change is a new consent_version."
        },
    )
    translations = Nested(
        TranslationsIn,
        metadata={
            "description": "Words in the campaign's other languages: each language "
            "given replaces its words, null removes them; languages not given stay."
        },
    )


class CampaignPatch(CampaignIn):
    """Only the given fields change. The kind cannot change; ``rules`` replaces the whole set."""

    name = Text(validate=Length(1, NAME_MAX))
    kind = Text(validate=OneOf(KINDS))


class _Out(Schema):
    """An answer's shape; it serialises the models (and pages of them) the views return:
    ids as strings, times as ISO 8601 with their offset."""

    class Meta:
        unknown = INCLUDE  # documents that later versions may add fields


class TimeOut(String):
    """A time in an answer: ISO 8601 with its offset (a text already in that form as it is)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, datetime):
            value = value.isoformat()
        return super()._serialize(value, attr, obj, **kwargs)


def _time_out(**kw: Any) -> String:
    return TimeOut(metadata={"format": "date-time"}, **kw)


class Alias(String):
    """A text read from ``source``, an attribute of the row that another field of the answer
    may dump too (which ``attribute=`` may not name)."""

    def __init__(self, source: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return super().get_value(obj, self.source, accessor, default)


class PublicUrl(Alias):
    """An address on this service's public site (``PUBLIC_BASE_URL``) made from a value of
    the row: ``PublicUrl("/c/{}", "slug")`` is the landing page."""

    def __init__(self, path: str, source: str, **kwargs: Any) -> None:
        metadata = {"format": "uri", **kwargs.pop("metadata", {})}
        super().__init__(source, metadata=metadata, **kwargs)
        self.path = path

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        base = current_app.config["PUBLIC_BASE_URL"]
        return super()._serialize(f"{base}{self.path.format(value)}", attr, obj, **kwargs)


class TranslationOut(_Out):
    name = String(required=True)
    description = String(required=True)
    benefit = String(required=True)
    consent_text = String(required=True)
    consent_version = String(required=True)


class _CampaignView:
    """A campaign with the content fields the answer shows beside its columns."""

    def __init__(self, campaign: Any, extra: dict[str, Any]) -> None:
        self._campaign = campaign
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._campaign, name)


class CampaignOut(_Out):
    id = String(required=True)
    name = String(required=True)
    slug = String(required=True)
    kind = String(required=True, validate=OneOf(KINDS))
    status = String(required=True, validate=OneOf(STATUSES))
    description = String(required=True)
    reward_depth = Integer(required=True, metadata={"minimum": 0})
    attribution_days = Integer(required=True)
    hold_days = Integer(required=True)
    starts_at = _time_out(required=True, allow_none=True)
    ends_at = _time_out(required=True, allow_none=True)
    locales = List(String(), required=True)
    rules = Dict(
        required=True,
        allow_none=True,
        attribute="settings.rules",
        dump_default=None,
        metadata={"description": "Official rules of a prize draw (null for other kinds)."},
    )
    default_locale = String(required=True)
    benefit = String(required=True)
    consent_text = String(required=True)
    consent_version = String(
        required=True,
        metadata={"description": "What a person joining in the default language records."},
    )
    translations = Dict(
        keys=String(),
        values=Nested(TranslationOut),
        required=True,
        metadata={
            "description": "Words per other language, with the consent_version a "
            "person joining in it records."
        },
    )
    landing_url = PublicUrl("/c/{}", "slug", required=True)
    published_at = _time_out(required=True, allow_none=True)
    closed_at = _time_out(required=True, allow_none=True)
    created_at = _time_out(required=True)
    # Prize draws only (docs/DRAWS.md): public from the opening, the close and the draw.
    commitment = String(allow_none=True, metadata={"description": "sha256 of the secret seed."})
    entries_digest = String(allow_none=True, metadata={"description": "Set at the close."})
    draw_id = String(allow_none=True, metadata={"description": "Set once drawn."})

    @pre_dump
    def _content(self, campaign: Any, **_kw: Any) -> Any:
        """The words of the default language and the translations, from the settings."""
        if not hasattr(campaign, "settings"):
            return campaign
        words = content.default_content(
            campaign.name, campaign.description, campaign.locales, campaign.settings
        )
        return _CampaignView(
            campaign,
            {
                "default_locale": words.locale,
                "benefit": words.benefit,
                "consent_text": words.consent_text,
                "consent_version": words.consent_version,
                "translations": content.translations_out(campaign.locales, campaign.settings),
            },
        )

    @post_dump(pass_original=True)
    def _lottery_fields(self, data: dict[str, Any], campaign: Any, **_kw: Any) -> dict[str, Any]:
        """What a prize draw publishes beside its rules (nothing for other kinds)."""
        return {**data, **lottery.public_fields(campaign)}


class ListQuery(Schema):
    limit = Integer(
        load_default=DEFAULT_LIMIT,
        validate=Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, 1 to {MAX_LIMIT}."},
    )
    cursor = Text(
        validate=[Length(max=CURSOR_MAX), Regexp(CURSOR_PATTERN, error=CURSOR_ERROR)],
        metadata={"description": "The next_cursor of the previous page."},
    )


class CampaignPage(_Out):
    items = List(Nested(CampaignOut), required=True)
    next_cursor = String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as ?cursor= for the next page; null on the last."},
    )


class Ok(_Out):
    ok = Boolean(required=True)
