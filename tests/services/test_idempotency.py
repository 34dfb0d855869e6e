"""Idempotency keys, asked of the idempotency service: what makes two requests the same
(their fingerprint), the first answer stored and replayed, a key used for another request
refused, keys per workspace, a failed request's key given back, and old answers forgotten.
How the API answers a replay, a 409 and a bad header is in tests/web/test_api_idempotency.py;
a dead or slow owner's claim in tests/services/test_idempotency_takeover.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral.domain.errors import Conflict
from referral.extensions import db
from referral.models import IdempotencyRecord, Workspace
from referral.models.base import utcnow
from referral.services import idempotency
from referral.services.idempotency import Stored, claim, complete, fingerprint, prune, release
from tests.factories import Factory

BODY = b'{"name": "Spaced", "kind": "referral"}'


def same_request(body: bytes = BODY) -> str:
    return fingerprint("POST", "/api/v1/campaigns", b"", body)


@pytest.fixture
def workspace(factory: Factory) -> Workspace:
    return factory.workspace()


def records() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"kind":"referral","name":"Spaced"}',
        b'{\n  "name": "Spaced",\n  "kind": "referral"\n}',
        b'{"kind": "referral", "name": "Spaced"}  ',
    ],
)
def test_the_same_json_in_another_key_order_or_spacing_is_the_same_request(body: bytes) -> None:
    assert same_request(body) == same_request()


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("POST", "/api/v1/campaigns", b"", b'{"name": "Other", "kind": "referral"}'),
        ("POST", "/api/v1/campaigns/1/events", b"", BODY),
        ("PATCH", "/api/v1/campaigns", b"", BODY),
        ("POST", "/api/v1/campaigns", b"dry=1", BODY),
    ],
    ids=["another body", "another route", "another method", "another query"],
)
def test_another_body_route_method_or_query_is_another_request(
    method: str, path: str, query: bytes, body: bytes
) -> None:
    assert fingerprint(method, path, query, body) != same_request()


def test_a_body_that_is_not_json_is_compared_by_its_bytes() -> None:
    assert same_request(b"{") == same_request(b"{")
    assert same_request(b"{") != same_request(b"{ ")
    assert same_request(b"\xff") != same_request(b"\xfe")


def test_the_first_answer_is_stored_and_replayed_as_it_was(workspace: Workspace) -> None:
    claimed = claim(workspace.id, "k-1", same_request())
    assert isinstance(claimed, int)
    complete(claimed, 201, {"id": "7", "name": "Spaced"}, {"Location": "/api/v1/campaigns/7"})
    for _ in range(2):
        assert claim(workspace.id, "k-1", same_request()) == Stored(
            201, {"id": "7", "name": "Spaced"}, {"Location": "/api/v1/campaigns/7"}
        )
    assert records() == 1


@pytest.mark.parametrize("answered", [True, False], ids=["answered", "in progress"])
def test_a_key_used_for_a_different_request_is_refused(
    workspace: Workspace, answered: bool
) -> None:
    claimed = claim(workspace.id, "k-1", same_request())
    assert isinstance(claimed, int)
    if answered:
        complete(claimed, 201, {"id": "7"}, {})
    other = same_request(b'{"name": "Two", "kind": "referral"}')
    with pytest.raises(Conflict) as refused:
        claim(workspace.id, "k-1", other)
    assert "Idempotency-Key was already used for a different request" in refused.value.message
    assert records() == 1


def test_keys_belong_to_one_workspace(workspace: Workspace, factory: Factory) -> None:
    other = factory.workspace()
    mine = claim(workspace.id, "shared-key", same_request())
    theirs = claim(other.id, "shared-key", same_request())
    assert isinstance(mine, int) and isinstance(theirs, int) and mine != theirs
    complete(mine, 201, {"id": "1"}, {})
    complete(theirs, 201, {"id": "2"}, {})
    assert claim(other.id, "shared-key", same_request()) == Stored(201, {"id": "2"}, {})
    with pytest.raises(Conflict):  # their own first use, not ours
        claim(other.id, "shared-key", same_request(b'{"name": "Other"}'))


def test_a_released_key_is_free_for_a_corrected_retry(workspace: Workspace) -> None:
    refused = claim(workspace.id, "k-retry", same_request(b'{"kind": "party"}'))
    assert isinstance(refused, int)
    release(refused)
    assert records() == 0
    fixed = claim(workspace.id, "k-retry", same_request())
    assert isinstance(fixed, int)
    complete(fixed, 201, {"id": "3"}, {})
    release(fixed)  # an answered key is never given back
    assert claim(workspace.id, "k-retry", same_request()) == Stored(201, {"id": "3"}, {})


def test_a_repeat_of_a_request_in_progress_gives_up_with_409(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    claimed = claim(workspace.id, "k-slow", same_request())
    assert isinstance(claimed, int)
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    with pytest.raises(Conflict) as waited:
        claim(workspace.id, "k-slow", same_request())
    assert "still in progress" in waited.value.message
    complete(claimed, 201, {"id": "1"}, {})
    assert claim(workspace.id, "k-slow", same_request()) == Stored(201, {"id": "1"}, {})


def test_old_answers_are_forgotten_but_claims_in_progress_are_kept(workspace: Workspace) -> None:
    answered = claim(workspace.id, "old", same_request())
    running = claim(workspace.id, "running", same_request())
    another = claim(workspace.id, "another", same_request())
    assert isinstance(answered, int) and isinstance(running, int) and isinstance(another, int)
    complete(answered, 201, {"id": "1"}, {})
    complete(another, 201, {"id": "2"}, {})
    later = utcnow() + timedelta(days=2)
    assert prune(timedelta(days=1), now=later - timedelta(days=1, hours=1)) == 0
    assert prune(timedelta(days=1), now=later) == 2
    assert records() == 1
    assert isinstance(claim(workspace.id, "old", same_request()), int)  # runs anew
