"""The API's input schemas as pure rules: each bad body names each bad field.

A schema's ``load`` needs neither a request nor a database, so the many ways a body can be
wrong are checked here; the web tests keep one case per operation to prove the wiring (that a
bad body answers 422 with these names, and stores nothing). Names are flattened as the
problem answer flattens them (``rules.prizes.0.name``).
"""

from __future__ import annotations

from typing import Any

import pytest
from apiflask import Schema
from marshmallow import ValidationError

from referral.api.draws import DrawIn
from referral.api.engine_schemas import EventIn, ParticipantIn, RuleIn
from referral.api.journey_schemas import JourneyIn, TagsIn
from referral.api.schemas import CampaignIn, CampaignPatch
from referral.errors import _flatten_validation


def bad_fields(schema: type[Schema], body: dict[str, Any]) -> dict[str, list[str]]:
    """The problem answer's ``errors`` for ``body``: each bad field with its messages."""
    with pytest.raises(ValidationError) as caught:
        schema().load(body)
    return _flatten_validation({"json": caught.value.messages})


def assert_names(schema: type[Schema], body: dict[str, Any], fields: set[str]) -> None:
    errors = bad_fields(schema, body)
    assert set(errors) == fields
    assert all(errors[name] for name in fields)


# --- campaigns --------------------------------------------------------------------------------

CAMPAIGN_VIOLATIONS = [
    pytest.param({"name": None, "kind": None}, {"name", "kind"}, id="name and kind null"),
    pytest.param({"colour": "red"}, {"colour"}, id="unknown field"),
    pytest.param({"name": "x" * 121}, {"name"}, id="name too long"),
    pytest.param({"name": ""}, {"name"}, id="empty name"),
    pytest.param({"name": 5}, {"name"}, id="name not a string"),
    pytest.param({"name": None}, {"name"}, id="name null"),
    pytest.param({"name": "Bad\x00byte"}, {"name"}, id="NUL in name"),
    pytest.param({"kind": "newsletter"}, {"kind"}, id="kind not allowed"),
    pytest.param({"kind": ["referral"]}, {"kind"}, id="kind a list"),
    pytest.param({"reward_depth": "1"}, {"reward_depth"}, id="depth a string"),
    pytest.param({"reward_depth": 1.5}, {"reward_depth"}, id="depth a fraction"),
    pytest.param({"reward_depth": True}, {"reward_depth"}, id="depth a boolean"),
    pytest.param({"locales": "en"}, {"locales"}, id="locales a string"),
    pytest.param({"locales": ["en", "xx"]}, {"locales.1"}, id="unknown locale"),
    pytest.param({"locales": []}, {"locales"}, id="no locales"),
    pytest.param({"starts_at": "next tuesday"}, {"starts_at"}, id="starts not a time"),
    pytest.param({"starts_at": 1767225600}, {"starts_at"}, id="starts a number"),
    pytest.param({"starts_at": "0001-01-01T00:00:00+01:00"}, {"starts_at"}, id="year 1"),
    pytest.param({"ends_at": "9999-12-31T23:00:00-05:00"}, {"ends_at"}, id="past year 9999"),
    pytest.param({"description": "x" * 5001}, {"description"}, id="description too long"),
    pytest.param({"rules": "see our website"}, {"rules"}, id="rules a string"),
    pytest.param({"rules": {"odds": "good"}}, {"rules.odds"}, id="unknown rules field"),
    pytest.param({"rules": {"min_age": "18"}}, {"rules.min_age"}, id="min age a string"),
    pytest.param({"rules": {"regions": ["Netherlands"]}}, {"rules.regions.0"}, id="region name"),
    pytest.param({"rules": {"timezone": "Mars/Olympus"}}, {"rules.timezone"}, id="timezone"),
    pytest.param(
        {"rules": {"prizes": [{"name": "Bike", "currency": "eur", "quantity": 0}]}},
        {"rules.prizes.0.currency", "rules.prizes.0.quantity"},
        id="prize fields",
    ),
]


@pytest.mark.parametrize(("fields", "bad"), CAMPAIGN_VIOLATIONS)
def test_a_bad_campaign_names_each_bad_field(fields: dict[str, Any], bad: set[str]) -> None:
    assert_names(CampaignIn, {"name": "Spring", "kind": "lottery", **fields}, bad)


PATCH_VIOLATIONS = [
    pytest.param({"colour": "red"}, {"colour"}, id="unknown field"),
    pytest.param({"name": "x" * 121}, {"name"}, id="name too long"),
    pytest.param({"name": None}, {"name"}, id="name null"),
    pytest.param({"reward_depth": "2"}, {"reward_depth"}, id="depth a string"),
    pytest.param({"kind": "poll"}, {"kind"}, id="kind not allowed"),
    pytest.param({"locales": ["xx"]}, {"locales.0"}, id="unknown locale"),
]


@pytest.mark.parametrize(("fields", "bad"), PATCH_VIOLATIONS)
def test_a_bad_campaign_change_names_each_bad_field(fields: dict[str, Any], bad: set[str]) -> None:
    assert_names(CampaignPatch, fields, bad)


# --- participants -----------------------------------------------------------------------------

BAD_JOINS = [
    ({}, {"email"}),
    ({"email": "not-an-address"}, {"email"}),
    ({"email": 42}, {"email"}),
    ({"email": "a@example.com", "locale": "fr"}, {"locale"}),
    ({"email": "a@example.com", "name": "x" * 121}, {"name"}),
    ({"email": "a@example.com", "channel": "c" * 33}, {"channel"}),
    ({"email": "a@example.com", "confirmed": "maybe"}, {"confirmed"}),
    # No coercion: a string or a number never skips double opt-in.
    ({"email": "a@example.com", "confirmed": "yes"}, {"confirmed"}),
    ({"email": "a@example.com", "confirmed": "true"}, {"confirmed"}),
    ({"email": "a@example.com", "confirmed": 1}, {"confirmed"}),
    ({"email": "a@example.com", "confirmed": "1"}, {"confirmed"}),
    ({"email": "a@example.com", "referrer": "typo"}, {"referrer"}),
    ({"email": "bad", "locale": "xx"}, {"email", "locale"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_JOINS)
def test_a_bad_join_names_each_bad_field(body: dict[str, Any], fields: set[str]) -> None:
    assert_names(ParticipantIn, body, fields)


TERMS = {"text": "I agree to hear from Brand about this offer.", "version": "shop-7"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"marketing": True}, {"consent.text", "consent.version"}),
        ({"marketing": True, "consent": {"text": "Yes"}}, {"consent.version"}),
        ({"marketing": True, "consent": {"version": "1"}}, {"consent.text"}),
        ({"consent": {"text": "", "version": "1"}}, {"consent.text"}),
        ({"consent": {"text": "Yes", "version": "v" * 33}}, {"consent.version"}),
        ({"consent": {**TERMS, "source": "x" * 201}}, {"consent.source"}),
        ({"consent": {**TERMS, "extra": 1}}, {"consent.extra"}),
        ({"consent": "yes"}, {"consent"}),
        ({"marketing": "true", "consent": TERMS}, {"marketing"}),
    ],
)
def test_a_bad_consent_names_the_field(body: dict[str, Any], fields: set[str]) -> None:
    assert fields <= set(bad_fields(ParticipantIn, {"email": "x@example.com", **body}))


# --- reward rules and events ------------------------------------------------------------------

BAD_RULES = [
    ({}, {"level", "reward", "amount"}),
    ({"event": "birthday", "level": 0, "reward": "points", "amount": 5}, {"event"}),
    ({"event": "purchase", "level": 0, "reward": "gold", "amount": 5}, {"reward"}),
    ({"event": "purchase", "level": 0, "reward": "points", "amount": 0}, {"amount"}),
    ({"event": "purchase", "level": 0, "reward": "points", "amount": "5"}, {"amount"}),
    ({"event": "purchase", "level": 0.5, "reward": "points", "amount": 5}, {"level"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_RULES)
def test_a_bad_rule_names_each_bad_field(body: dict[str, Any], fields: set[str]) -> None:
    assert_names(RuleIn, body, fields)


BAD_EVENTS = [
    ({}, {"participant_id", "kind"}),
    ({"participant_id": "1", "kind": "birthday"}, {"kind"}),
    ({"participant_id": "1", "kind": "purchase", "amount": -1}, {"amount"}),
    ({"participant_id": "1", "kind": "purchase", "amount": 1.5}, {"amount"}),
    ({"participant_id": "1", "kind": "purchase", "currency": "EURO"}, {"currency"}),
    ({"participant_id": "1", "kind": "purchase", "external_id": ""}, {"external_id"}),
    ({"participant_id": "1", "kind": "purchase", "external_id": "x" * 129}, {"external_id"}),
    ({"participant_id": "1", "kind": "purchase", "occurred_at": "yesterday"}, {"occurred_at"}),
    ({"participant_id": "1", "kind": "purchase", "color": "red"}, {"color"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_EVENTS)
def test_a_bad_event_names_each_bad_field(body: dict[str, Any], fields: set[str]) -> None:
    assert_names(EventIn, body, fields)


# --- draws ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "winners"), ({"winners": "2"}, "winners")],
)
def test_a_bad_draw_request_names_the_field(body: dict[str, Any], field: str) -> None:
    assert field in bad_fields(DrawIn, body)


# --- journeys and tags ------------------------------------------------------------------------

VIP = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [
        {"id": "hook", "type": "webhook", "label": "vip"},
        {"id": "end", "type": "exit"},
    ],
}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"definition": VIP}, {"name"}),
        ({"name": "X"}, {"definition"}),
        ({"name": "X", "definition": []}, {"definition"}),
        ({"name": "X", "definition": VIP, "status": "paused"}, {"status"}),
        ({"name": "X", "definition": VIP, "colour": "red"}, {"colour"}),
        ({"name": "X", "definition": {"trigger": "\x00", "steps": []}}, {"definition"}),
    ],
)
def test_a_bad_journey_names_each_bad_field(body: dict[str, Any], fields: set[str]) -> None:
    assert_names(JourneyIn, body, fields)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"add": [""]}, {"add.0"}),
        ({"add": ["x" * 65]}, {"add.0"}),
        ({"add": "vip"}, {"add"}),
        ({"tags": ["vip"]}, {"tags"}),
    ],
)
def test_a_bad_tag_change_names_each_bad_field(body: dict[str, Any], fields: set[str]) -> None:
    assert_names(TagsIn, body, fields)
