"""Helpers for the API tests: a client holding one workspace's key, problem assertions, and
a campaign ready for referrals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from referral.extensions import db

API = "/api/v1"
PROBLEM = "application/problem+json"


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

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """The JSON body of a call that must answer ``status``."""
        response = self.call(method, path, **kw)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def campaign(self, **fields: Any) -> dict[str, Any]:
        """A new live referral campaign (reward depth 1 unless given)."""
        body = {"name": "Spring referral", "kind": "referral", **fields}
        created = self.ok("POST", "/campaigns", 201, json=body)
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


def race(app: Flask, n: int, work: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work`` in ``n`` threads released at once, each in its own app context; their
    results and errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.append(work())
            except BaseException as exc:  # collected and asserted by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
