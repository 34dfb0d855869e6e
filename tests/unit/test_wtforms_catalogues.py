"""WTForms' own messages in each of our locales as a pure rule: its catalogues, chosen per
locale (Traditional Chinese never falls back to WTForms' Simplified one). No app, no
database. A page showing them: tests/web/test_form_translations.py."""

from __future__ import annotations

import pytest

from referral.forms import wtforms_translations

REQUIRED = "This field is required."
RANGE = "Number must be between %(min)s and %(max)s."


@pytest.mark.parametrize(
    ("locale", "required", "out_of_range"),
    [
        ("zh_Hant", "此欄位是必需的。", "數字必須介於 0 和 3 之間。"),
        ("zh_Hans", "该字段是必填字段。", "数值大小必须介于 0 到 3 之间。"),
        ("de", "Dieses Feld wird benötigt.", "Zahl muss zwischen 0 und 3 liegen."),
        ("nl", "Dit veld is vereist.", "Nummer moet tussen 0 en 3 liggen."),
        ("en", "This field is required.", "Number must be between 0 and 3."),
    ],
)
def test_the_forms_own_messages_are_in_each_locale(
    locale: str, required: str, out_of_range: str
) -> None:
    catalogue = wtforms_translations(locale)
    assert catalogue.gettext(REQUIRED) == required
    assert catalogue.gettext(RANGE) % {"min": 0, "max": 3} == out_of_range


def test_traditional_chinese_gets_no_simplified_form_messages() -> None:
    """gettext would fall back from zh_Hant to WTForms' zh (Simplified) catalogue."""
    assert wtforms_translations("zh_Hant").gettext(REQUIRED) not in (
        "该字段是必填字段。",
        REQUIRED,
    )
