from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from referral.forms import Form, WholeNumberField
from referral.i18n import LANGUAGE_NAMES

KIND_CHOICES = [
    SelectChoice("referral", _l("Referral / waitlist")),
    SelectChoice("lottery", _l("Prize draw")),
    SelectChoice("survey", _l("Survey with a prize")),
    SelectChoice("trial", _l("Free trial")),
    SelectChoice("instant_win", _l("Instant-win game")),
]
LOCALE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    slug = StringField(
        _l("Web address"),
        validators=[Optional(), Length(max=64)],
        description=_l("The page will be /c/<address>. Leave empty to make one from the name."),
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    reward_depth = WholeNumberField(
        _l("Reward depth"),
        validators=[InputRequired(), NumberRange(min=0, max=3)],
        default=1,
    )
    attribution_days = WholeNumberField(
        _l("Attribution window (days)"),
        validators=[InputRequired(), NumberRange(min=1, max=365)],
        default=30,
    )
    hold_days = WholeNumberField(
        _l("Hold rewards for (days)"),
        validators=[InputRequired(), NumberRange(min=0, max=365)],
        default=0,
    )
    starts_at = DateTimeLocalField(_l("Starts (UTC)"), validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Ends (UTC)"), validators=[Optional()])
    locales = MultiCheckboxField(_l("Languages"), choices=LOCALE_CHOICES, default=["en"])

    def values(self) -> dict[str, object]:
        return {
            "name": self.name.data,
            "kind": self.kind.data,
            "slug": self.slug.data or None,
            "description": self.description.data or "",
            "reward_depth": self.reward_depth.data,
            "attribution_days": self.attribution_days.data,
            "hold_days": self.hold_days.data,
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "locales": self.locales.data or ["en"],
        }


class ActionForm(Form):
    """An empty form: a button that posts with a CSRF token."""


class ApiKeyForm(Form):
    name = StringField(_l("Key name"), validators=[DataRequired(), Length(max=120)])


class WorkspaceForm(Form):
    workspace_id = WholeNumberField(validators=[InputRequired()])
