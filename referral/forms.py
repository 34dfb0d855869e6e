"""The base of every form: WTForms' own messages ("This field is required.") in the page's
language.

Flask-WTF looks WTForms' catalogue up by the request's locale as it is, and gettext then
falls back from ``zh_Hant`` to ``zh``: Simplified Chinese on a Traditional Chinese page.
WTForms ships Traditional Chinese as ``zh_TW``, so our locales are mapped to its names here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.i18n import messages_path

# Our locale → the name of WTForms' catalogue; the others are the same in both.
WTFORMS_LOCALES = {"zh_Hant": "zh_TW", "zh_Hans": "zh"}


@cache
def wtforms_translations(locale: str) -> NullTranslations:
    """WTForms' messages in ``locale`` (one of ours); English when WTForms has none."""
    name = WTFORMS_LOCALES.get(locale, locale)
    return Translations.load(messages_path(), [name], domain="wtforms")


NUL_IN_TEXT = _l("Remove the NUL character from this field.")


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages follow the request's locale, and which
    refuses NUL characters in any text (no database column can hold them)."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if any("\x00" in value for value in _texts(field.data)):
                field.errors = [*field.errors, str(NUL_IN_TEXT)]
                valid = False
        return valid

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            if not has_request_context() or not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations(str(get_locale() or "en"))


def _texts(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list | tuple):
        return [item for item in data if isinstance(item, str)]
    return []


# WTForms' own message for IntegerField, translated by its catalogue (see ``Form``).
NOT_A_NUMBER = "Not a valid integer value."


class WholeNumberField(IntegerField):
    """An ``IntegerField`` that refuses numbers too long to be meant (and to compare).

    WTForms' ``NumberRange`` turns a huge int into a float and fails with ``OverflowError``;
    here anything beyond ``MAX_DIGITS`` digits is an ordinary "not a valid number" error.
    """

    MAX_DIGITS = 18

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > self.MAX_DIGITS:
            self.data = None
            raise ValueError(self.gettext(NOT_A_NUMBER))
        super().process_formdata(valuelist)
