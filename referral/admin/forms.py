from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    FormField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as SubForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from referral.domain import campaign_content as content
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
    default_locale = SelectField(
        _l("Default language"),
        choices=LOCALE_CHOICES,
        default="en",
        description=_l(
            "The language of the name and description above. A page in a language without "
            "a translation shows these, with a note."
        ),
    )
    benefit = StringField(
        _l("Benefit line"),
        validators=[Optional(), Length(max=content.BENEFIT_MAX)],
        description=_l("One line on the landing page saying what people get."),
    )
    consent_text = TextAreaField(
        _l("Consent sentence"),
        validators=[Optional(), Length(max=content.CONSENT_MAX)],
        description=_l(
            "The whole sentence beside the consent box. Leave empty for the standard one. "
            "Each change is a new version, recorded with every consent."
        ),
    )

    # The languages with a section of their own (``words_<locale>``), set by campaign_form.
    translated: Sequence[str] = ()

    def translation_fields(self) -> list[tuple[str, Any]]:
        return [(locale, self[f"words_{locale}"]) for locale in self.translated]

    def _translations(self, offered: list[str], default: str) -> dict[str, object]:
        """Each section's words; an empty section removes that language's words. Sections
        of a language no longer offered, or now the default, are left as they are."""
        out: dict[str, object] = {}
        for locale, section in self.translation_fields():
            words = {name: (section[name].data or "").strip() for name in content.FIELDS}
            if locale not in offered or (locale == default and not any(words.values())):
                continue
            out[locale] = words if any(words.values()) else None
        return out

    def values(self) -> dict[str, object]:
        offered = self.locales.data or ["en"]
        default = self.default_locale.data or offered[0]
        return {
            "default_locale": default if default in offered else offered[0],
            "benefit": self.benefit.data or "",
            "consent_text": self.consent_text.data or "",
            "translations": self._translations(offered, default),
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


class TranslationForm(SubForm):
    """A campaign's words in one more language: a section of the campaign form."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=content.NAME_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=content.DESCRIPTION_MAX)]
    )
    benefit = StringField(
        _l("Benefit line"), validators=[Optional(), Length(max=content.BENEFIT_MAX)]
    )
    consent_text = TextAreaField(
        _l("Consent sentence"),
        validators=[Optional(), Length(max=content.CONSENT_MAX)],
        description=_l("Leave empty for the standard sentence in this language."),
    )


def campaign_form(translated: Sequence[str] = (), **kwargs: Any) -> CampaignForm:
    """The campaign form with a section for each language of ``translated``."""
    fields = {
        f"words_{locale}": FormField(TranslationForm, label=LANGUAGE_NAMES.get(locale, locale))
        for locale in translated
    }
    form_class = type("CampaignWordsForm", (CampaignForm,), {**fields, "translated": translated})
    return form_class(**kwargs)


def campaign_form_data(campaign: Any) -> dict[str, Any]:
    """The form's values of the words that live in the campaign's settings."""
    settings = campaign.settings or {}
    default = content.default_locale(campaign.locales, settings)
    words = settings.get("translations") or {}
    return {
        "default_locale": default,
        "benefit": settings.get("benefit") or "",
        "consent_text": settings.get("consent_text") or "",
        **{
            f"words_{locale}": {name: (found or {}).get(name) or "" for name in content.FIELDS}
            for locale, found in words.items()
            if isinstance(found, dict)
        },
    }


class ActionForm(Form):
    """An empty form: a button that posts with a CSRF token."""


class ApiKeyForm(Form):
    name = StringField(_l("Key name"), validators=[DataRequired(), Length(max=120)])


class WorkspaceForm(Form):
    workspace_id = WholeNumberField(validators=[InputRequired()])
