"""The forms of a prize draw's admin page: official rules, amendments, draw, replacement."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from referral.forms import Form, WholeNumberField

REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
CHANNELS = ("link", "qr", "whatsapp", "email", "wechat", "x", "line")


class ChannelsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _timezone(_form: Any, field: Any) -> None:
    if field.data not in available_timezones():
        raise ValidationError(_l("Use a time zone name such as Europe/Amsterdam."))


def _regions(_form: Any, field: Any) -> None:
    codes = [code.strip().upper() for code in (field.data or "").split(",") if code.strip()]
    if not codes or not all(REGION.fullmatch(code) for code in codes):
        raise ValidationError(_l("List ISO 3166 codes separated by commas, such as NL, BE."))


def _count(label: Any, low: int, high: int, default: int | None = None) -> WholeNumberField:
    return WholeNumberField(
        label, validators=[InputRequired(), NumberRange(min=low, max=high)], default=default
    )


class LotteryRulesForm(Form):
    sponsor = StringField(_l("Sponsor name"), validators=[DataRequired(), Length(max=200)])
    sponsor_address = TextAreaField(
        _l("Sponsor address"), validators=[DataRequired(), Length(max=500)]
    )
    timezone = StringField(
        _l("Time zone of the dates"),
        validators=[DataRequired(), Length(max=64), _timezone],
        default="Europe/Amsterdam",
    )
    regions = StringField(
        _l("Eligible regions"),
        validators=[DataRequired(), Length(max=900), _regions],
        description=_l("ISO 3166 codes separated by commas, such as NL, BE, DE."),
    )
    min_age = _count(_l("Minimum age"), 0, 150, 18)
    entry_limit = _count(_l("Most entries per person (1 + bonus entries)"), 1, 10_000, 1)
    prize_name = StringField(_l("Prize"), validators=[DataRequired(), Length(max=200)])
    prize_value = _count(_l("Approximate retail value (in cents)"), 0, 10**12)
    prize_currency = StringField(
        _l("Currency"), validators=[DataRequired(), Length(min=3, max=3)], default="EUR"
    )
    prize_quantity = _count(_l("Number of such prizes"), 1, 10_000, 1)
    winners = _count(_l("Number of winners"), 1, 10_000, 1)
    alternates = _count(_l("Number of alternates"), 0, 10_000, 2)
    claim_days = _count(_l("Days a winner has to claim the prize"), 1, 365, 14)
    free_entry_method = TextAreaField(
        _l("Free way to enter (no purchase necessary)"),
        validators=[DataRequired(), Length(max=2000)],
    )
    no_bonus_channels = ChannelsField(
        _l("No bonus entries for friends who came through"),
        choices=[SelectChoice(name, name) for name in CHANNELS],
        default=[],
    )

    def load(self, rules: dict[str, Any]) -> None:
        """Fill the form from stored rules (the first prize only)."""
        prize = (rules.get("prizes") or [{}])[0]
        for name in ("sponsor", "sponsor_address", "timezone", "min_age", "entry_limit"):
            if rules.get(name) is not None:
                getattr(self, name).data = rules[name]
        for name in ("winners", "alternates", "claim_days", "free_entry_method"):
            if rules.get(name) is not None:
                getattr(self, name).data = rules[name]
        self.regions.data = ", ".join(rules.get("regions") or [])
        self.prize_name.data = prize.get("name")
        self.prize_value.data = prize.get("value")
        self.prize_currency.data = prize.get("currency") or "EUR"
        self.prize_quantity.data = prize.get("quantity") or 1
        self.no_bonus_channels.data = list(rules.get("no_bonus_channels") or [])

    def rules(self, previous: dict[str, Any]) -> dict[str, Any]:
        prize = {
            "name": self.prize_name.data.strip(),
            "value": self.prize_value.data,
            "currency": self.prize_currency.data.strip().upper(),
            "quantity": self.prize_quantity.data,
        }
        more_prizes = (previous.get("prizes") or [])[1:]
        return {
            "sponsor": self.sponsor.data.strip(),
            "sponsor_address": self.sponsor_address.data.strip(),
            "timezone": self.timezone.data.strip(),
            "regions": [c.strip().upper() for c in self.regions.data.split(",") if c.strip()],
            "min_age": self.min_age.data,
            "entry_limit": self.entry_limit.data,
            "prizes": [prize, *more_prizes],
            "winners": self.winners.data,
            "alternates": self.alternates.data,
            "claim_days": self.claim_days.data,
            "free_entry_method": self.free_entry_method.data.strip(),
            "no_bonus_channels": list(self.no_bonus_channels.data or []),
        }


class AmendRulesForm(LotteryRulesForm):
    reason = StringField(
        _l("Why the rules change"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Shown with the new version on the public rules page."),
    )


class DrawForm(Form):
    winners = _count(_l("Number of winners"), 1, 10_000, 1)
    alternates = _count(_l("Number of alternates"), 0, 10_000, 0)
    beacon = StringField(
        _l("Public beacon (optional)"),
        validators=[Length(max=200)],
        description=_l("Only if the rules announced one, e.g. a named drand round."),
    )


class ReplaceForm(Form):
    entry_id = StringField(_l("Winning entry"), validators=[DataRequired(), Length(max=32)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
