"""Fixtures and helpers shared by the web tests: a client holding one workspace's API key,
problem assertions, the landing page's join form, the OpenAPI document and its generated
requests.

Fixtures: ``workspace`` (a fresh one), ``api`` (its key), ``other_api`` (the key of a second,
unrelated workspace), ``openapi`` (the served document).
"""

from __future__ import annotations

import contextvars
import html
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.public.join import form_stamp
from tests.concurrency import race as race_indexed
from tests.conftest import csrf_from
from tests.factories import Factory

API = "/api/v1"
PROBLEM = "application/problem+json"
IP = "203.0.113.77"


class Api:
    """A client that sends one workspace's key, as a shop's script would."""

    def __init__(self, client: FlaskClient, secret: str) -> None:
        self.client = client
        self.secret = secret

    def call(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.secret}", **kw.pop("headers", {})}
        if "key" in kw:
            headers["Idempotency-Key"] = kw.pop("key")
        return self.client.open(API + path, method=method, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.call("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.call("PATCH", path, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """The JSON body of a call that must answer ``status``."""
        response = self.call(method, path, **kw)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def create(self, **fields: Any) -> dict[str, Any]:
        """A new draft campaign (a referral campaign unless given)."""
        body = {"name": "Spring referral", "kind": "referral", **fields}
        return self.ok("POST", "/campaigns", 201, json=body)

    def campaign(self, **fields: Any) -> dict[str, Any]:
        """A new live referral campaign (reward depth 1 unless given)."""
        created = self.create(**fields)
        return self.ok("POST", f"/campaigns/{created['id']}/publish")

    def rule(self, campaign_id: str, **fields: Any) -> dict[str, Any]:
        return self.ok("POST", f"/campaigns/{campaign_id}/reward-rules", 201, json=fields)

    def join(self, campaign_id: str, email: str, **fields: Any) -> dict[str, Any]:
        """A participant (new: 201, or the existing one: 200)."""
        response = self.post(
            f"/campaigns/{campaign_id}/participants", json={"email": email, **fields}
        )
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture
def workspace(factory: Factory) -> Workspace:
    return factory.workspace()


@pytest.fixture
def api(client: FlaskClient, factory: Factory, workspace: Workspace) -> Api:
    _, secret = factory.api_key(workspace)
    return Api(client, secret)


@pytest.fixture
def other_api(client: FlaskClient, factory: Factory) -> Api:
    """The key of a second, unrelated workspace (brand B)."""
    _, secret = factory.api_key(factory.workspace())
    return Api(client, secret)


@pytest.fixture
def openapi(client: FlaskClient) -> dict[str, Any]:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] and body["title"]
    return body


def assert_iso_with_offset(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, f"{value!r} has no offset"
    return parsed


def text_of(response: Any) -> str:
    """The page as a reader sees its text (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def count(model: type, *where: Any) -> int:
    """Rows of ``model`` (matching ``where``) as the requests committed them."""
    db.session.rollback()  # a fresh snapshot: see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def race(app: Flask, n: int, work: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work`` in ``n`` threads released at once, each in its own app context; their
    results and errors."""
    results: list[Any] = []
    errors = race_indexed(app, n, lambda _: results.append(work()))
    return results, errors


def join_through_form(
    client: FlaskClient,
    campaign: Campaign,
    email: str = "anna@example.com",
    seconds_on_page: float = 10,
    page: str | None = None,
    ip: str = IP,
    **fields: Any,
) -> Any:
    """Open the landing page, fill the form as a person would, and send it."""
    env = {"REMOTE_ADDR": ip}
    shown = client.get(page or f"/c/{campaign.slug}", environ_base=env)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(shown.get_data(as_text=True)),
        "email": email,
        "consent": "y",
        "started": form_stamp(campaign.id, time.time() - seconds_on_page),
        **fields,
    }
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(f"/c/{campaign.slug}", data=data, environ_base=env)


def check_generated_requests(
    app: Flask,
    secret: str,
    wanted: Iterable[tuple[str, str]],
    fixed: dict[str, str],
    max_examples: int,
) -> list[Any]:
    """Schemathesis: generated requests, valid and invalid, against each ``wanted``
    operation (full path, method) of the served OpenAPI document, with the path parameters
    in ``fixed``: never a 500, and every answer (problems included) conforms to the
    document. Returns the operations it checked."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    def isolated(environ: Any, start_response: Any) -> Any:
        # Each request in its own context, as under a real server (see conftest.IsolatedClient).
        return contextvars.Context().run(app.wsgi_app, environ, start_response)

    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", isolated)
    wanted = set(wanted)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.path, op.method.lower()) in wanted]
    headers = {"Authorization": f"Bearer {secret}"}
    checks = [not_a_server_error, response_schema_conformance]
    for operation in operations:
        params = {k: v for k, v in fixed.items() if "{" + k + "}" in operation.path} or None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=params)

            @given(case=strategy)
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=checks)

            check()
    return operations
