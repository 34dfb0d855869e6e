"""The admin's campaign form as a pure rule: what a person types is refused with the reason
before any service runs. A bare Flask app with Babel is enough: no database, no routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from referral.admin.forms import CampaignForm


@pytest.fixture
def form_app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit", WTF_CSRF_ENABLED=False)
    Babel(app)
    with app.test_request_context(method="POST"):
        yield app


def campaign_form(**overrides: Any) -> MultiDict[str, Any]:
    """Every field of the campaign form, filled in as a person would."""
    data: dict[str, Any] = {
        "name": "Summer giveaway",
        "kind": "referral",
        "slug": "summer-giveaway",
        "description": "Bring a friend.",
        "reward_depth": "1",
        "attribution_days": "30",
        "hold_days": "0",
        "starts_at": "",
        "ends_at": "",
        "locales": ["en"],
    }
    data.update(overrides)
    pairs = [
        (k, v) for k, value in data.items() for v in (value if isinstance(value, list) else [value])
    ]
    return MultiDict(pairs)


@pytest.mark.usefixtures("form_app")
def test_a_campaign_filled_in_as_a_person_would_is_valid() -> None:
    assert CampaignForm(formdata=campaign_form()).validate()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"reward_depth": "-1"}, "reward_depth", "Number must be between 0 and 3."),
        ({"attribution_days": "0"}, "attribution_days", "Number must be between 1 and 365."),
        ({"locales": ["xx"]}, "locales", "'xx' is not a valid choice"),
    ],
)
@pytest.mark.usefixtures("form_app")
def test_an_invalid_campaign_form_names_the_field_with_the_reason(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    form = CampaignForm(formdata=campaign_form(**overrides))
    assert not form.validate()
    assert set(form.errors) == {field}
    assert any(message in str(error) for error in form.errors[field])
