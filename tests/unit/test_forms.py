"""The forms as pure rules: what a person types is refused with the reason before any
service runs. A bare Flask app with Babel is enough: no database, no routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from referral.admin.forms import CampaignForm
from referral.admin.rules import RuleForm
from referral.forms import wtforms_translations
from referral.public.forms import JoinForm


@pytest.fixture
def form_app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit", WTF_CSRF_ENABLED=False)
    Babel(app)
    with app.test_request_context(method="POST"):
        yield app


def as_formdata(data: dict[str, Any]) -> MultiDict[str, Any]:
    """Form fields as a browser sends them: a list is one pair per value, None is left out."""
    return MultiDict(
        [
            (name, item)
            for name, value in data.items()
            if value is not None
            for item in (value if isinstance(value, list) else [value])
        ]
    )


def refusals(form_class: type[Any], data: dict[str, Any]) -> dict[str, list[str]]:
    form = form_class(formdata=as_formdata(data))
    assert not form.validate()
    return {name: [str(error) for error in found] for name, found in form.errors.items()}


# --- the admin's campaign form ----------------------------------------------------------------


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
    return as_formdata(data)


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


# --- the admin's reward-rule form -------------------------------------------------------------


def rule_form(**overrides: Any) -> dict[str, Any]:
    data = {"event": "purchase", "milestone": "", "level": "1", "reward": "points"}
    data.update({"amount": "500", "currency": ""})
    data.update(overrides)
    return data


@pytest.mark.usefixtures("form_app")
def test_a_rule_filled_in_as_a_person_would_is_valid() -> None:
    assert RuleForm(formdata=as_formdata(rule_form())).validate()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            rule_form(event="milestone", milestone=""),
            "milestone",
            "Give the number of confirmed referrals.",
        ),
        (rule_form(amount="0"), "amount", "Number must be between 1 and 10000000."),
        (rule_form(level="7"), "level", "Not a valid choice."),
        (rule_form(event="signup"), "event", "Not a valid choice."),
    ],
)
@pytest.mark.usefixtures("form_app")
def test_a_malformed_rule_names_the_field_with_the_reason(
    data: dict[str, Any], field: str, message: str
) -> None:
    errors = refusals(RuleForm, data)
    assert set(errors) == {field}
    assert any(message in error for error in errors[field])


# --- the landing page's join form -------------------------------------------------------------


def join_form(**fields: Any) -> dict[str, Any]:
    return {"email": "anna@example.com", "consent": "y", "started": "stamp", **fields}


@pytest.mark.usefixtures("form_app")
def test_a_join_filled_in_as_a_person_would_is_valid() -> None:
    assert JoinForm(formdata=as_formdata(join_form())).validate()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"consent": None}, "consent", "Please tick the box to agree."),
        ({"email": ""}, "email", "Enter an e-mail address."),
        ({"name": "x" * 121}, "name", "Keep the name to 120 characters."),
    ],
)
@pytest.mark.usefixtures("form_app")
def test_an_invalid_join_names_the_field_with_the_reason(
    fields: dict[str, Any], field: str, message: str
) -> None:
    errors = refusals(JoinForm, join_form(**fields))
    assert set(errors) == {field}
    assert any(message in error for error in errors[field])


# --- the forms' own messages -----------------------------------------------------------------


def test_a_locale_wtforms_does_not_know_falls_back_to_english() -> None:
    assert wtforms_translations("xx").gettext("This field is required.") == (
        "This field is required."
    )
