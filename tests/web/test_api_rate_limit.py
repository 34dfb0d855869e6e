"""The API's rate limit: per API key, configurable, answered 429 with Retry-After."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral import config as settings
from referral import create_app
from referral.extensions import db
from referral.models import Campaign
from tests.factories import Factory
from tests.web.conftest import Api, assert_problem


@pytest.fixture
def keys(client: FlaskClient, factory: Factory) -> tuple[Api, Api, Api]:
    """Two keys of one workspace and a key of another."""
    workspace = factory.workspace()
    first = Api(client, factory.api_key(workspace)[1])
    second = Api(client, factory.api_key(workspace)[1])
    other = Api(client, factory.api_key(factory.workspace())[1])
    return first, second, other


def test_the_limit_answers_429_with_retry_after_once_a_key_has_used_its_budget(
    app: Flask, keys: tuple[Api, Api, Api]
) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    api = keys[0]
    for _ in range(3):
        assert api.get("/campaigns").status_code == 200
    response = api.get("/campaigns")
    problem = assert_problem(response, 429)
    assert problem["detail"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_refused_writes_change_nothing(app: Flask, keys: tuple[Api, Api, Api]) -> None:
    app.config["API_RATE_LIMIT"] = "2 per minute"
    api = keys[0]
    statuses = [
        api.post("/campaigns", json={"name": f"C{n}", "kind": "referral"}).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 429, 429]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 2


def test_every_key_has_a_budget_of_its_own(app: Flask, keys: tuple[Api, Api, Api]) -> None:
    app.config["API_RATE_LIMIT"] = "2 per minute"
    first, second, other = keys
    for _ in range(2):
        assert first.get("/campaigns").status_code == 200
    assert_problem(first.get("/campaigns"), 429)
    assert second.get("/campaigns").status_code == 200
    assert other.get("/campaigns").status_code == 200


def test_all_routes_of_a_key_share_one_budget(app: Flask, keys: tuple[Api, Api, Api]) -> None:
    app.config["API_RATE_LIMIT"] = "2 per minute"
    api = keys[0]
    created = api.post("/campaigns", json={"name": "C", "kind": "referral"})
    assert created.status_code == 201
    assert api.get(f"/campaigns/{created.get_json()['id']}").status_code == 200
    assert_problem(api.get("/campaigns"), 429)


@pytest.mark.parametrize("setting", ["off", ""])
def test_the_limit_can_be_turned_off(
    app: Flask, keys: tuple[Api, Api, Api], setting: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["API_RATE_LIMIT"] = setting
    api = keys[0]
    with caplog.at_level(logging.WARNING):
        assert all(api.get("/campaigns").status_code == 200 for _ in range(30))
    assert not [r for r in caplog.records if r.name.startswith("flask-limiter")], caplog.text


def test_a_malformed_limit_stops_the_app_at_start(tmp_path: Any) -> None:
    config = {
        **settings.test_config(f"sqlite:///{tmp_path / 'x.sqlite'}"),
        "API_RATE_LIMIT": "lots",
    }
    with pytest.raises(ValueError, match="lots"):
        create_app(config)
