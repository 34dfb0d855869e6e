"""Participants through the JSON API: join, read, list, confirm (docs/API.md)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.extensions import db
from referral.models import Event, LedgerEntry, Participation
from tests.factories import LOTTERY_RULES
from tests.web.conftest import Api, assert_iso_with_offset, assert_problem, count, race

PARTICIPANT_FIELDS = {
    "id", "campaign_id", "customer_id", "email", "referral_code", "referral_url", "qr_png_url",
    "qr_svg_url",
    "referrer_id", "depth", "status", "referral_status", "created_at", "confirmed_at",
    "referrals_confirmed", "points",
}  # fmt: skip


@pytest.fixture
def live(api: Api) -> dict[str, Any]:
    return api.campaign()


# --- joining ----------------------------------------------------------------------------------


def test_joining_answers_201_with_every_participant_field_and_its_location(
    api: Api, live: dict[str, Any]
) -> None:
    response = api.post(
        f"/campaigns/{live['id']}/participants",
        json={"email": "Anna@Example.com", "name": "Anna Bell", "locale": "de"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert PARTICIPANT_FIELDS <= set(body)
    assert response.headers["Location"].endswith(f"/api/v1/participants/{body['id']}")
    assert body["campaign_id"] == live["id"] and isinstance(body["id"], str)
    assert body["email"] == "anna@example.com"
    export = api.get(f"/customers/{body['customer_id']}/export")  # the person behind it
    assert export.status_code == 200, export.get_data(as_text=True)
    assert (body["status"], body["referral_status"], body["referrer_id"]) == (
        "pending",
        "none",
        None,
    )
    assert body["depth"] == 0 and body["confirmed_at"] is None
    assert (body["referrals_confirmed"], body["points"]) == (0, 0)
    code = body["referral_code"]
    assert body["referral_url"] == f"http://localhost/r/{code}"
    assert body["qr_png_url"] == f"http://localhost/q/{code}.png"
    assert body["qr_svg_url"] == f"http://localhost/q/{code}.svg"
    assert_iso_with_offset(body["created_at"])


def test_the_same_email_again_answers_200_with_the_existing_participant(
    api: Api, live: dict[str, Any]
) -> None:
    first = api.post(f"/campaigns/{live['id']}/participants", json={"email": "a.b@gmail.com"})
    again = api.post(
        f"/campaigns/{live['id']}/participants",
        json={"email": "AB+news@gmail.com", "name": "Someone else"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert "Location" not in again.headers
    assert count(Participation) == 1


def test_joining_a_draft_campaign_answers_409_and_stores_nothing(api: Api) -> None:
    draft = api.ok("POST", "/campaigns", 201, json={"name": "Draft", "kind": "referral"})
    response = api.post(f"/campaigns/{draft['id']}/participants", json={"email": "a@example.com"})
    assert_problem(response, 409)
    assert count(Participation) == 0


# Every bad join the schema refuses: tests/unit/test_api_schemas.py (BAD_JOINS); these prove
# that a refused join answers 422 naming the fields and stores nothing.
BAD_JOINS = [
    # No coercion: a string never skips double opt-in.
    ({"email": "a@example.com", "confirmed": "yes"}, {"confirmed"}),
    ({"email": "bad", "locale": "xx"}, {"email", "locale"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_JOINS)
def test_invariant_6_nothing_lost_nothing_leaked_a_bad_join_answers_422_and_stores_nothing(
    api: Api, live: dict[str, Any], body: dict[str, Any], fields: set[str]
) -> None:
    problem = assert_problem(api.post(f"/campaigns/{live['id']}/participants", json=body), 422)
    assert set(problem["errors"]) == fields
    assert count(Participation) == 0


def test_a_malformed_body_answers_400(
    api: Api, live: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for raw in (b"{", b"[]", b"", b"\xff\xfe", b'{"email": NaN}'):
        with subtests.test(raw=raw):
            response = api.post(
                f"/campaigns/{live['id']}/participants", data=raw, content_type="application/json"
            )
            assert_problem(response, 400)
    assert count(Participation) == 0


def test_joining_without_a_key_answers_401(client: FlaskClient, live: dict[str, Any]) -> None:
    response = client.post(
        f"/api/v1/campaigns/{live['id']}/participants", json={"email": "a@example.com"}
    )
    assert_problem(response, 401)
    assert count(Participation) == 0


# --- reading and listing ------------------------------------------------------------------------


# Which texts are no id at all: tests/unit/test_ids.py.
@pytest.mark.parametrize("ident", ["999999", "99999999999999999999"])
def test_an_unknown_participant_answers_404(api: Api, ident: str) -> None:
    assert_problem(api.get(f"/participants/{ident}"), 404)


def test_the_list_filters_by_a_known_status_only(api: Api, live: dict[str, Any]) -> None:
    """The numbers and the filter: tests/services/test_participants_api_rules.py."""
    api.join(live["id"], "anna@example.com", confirmed=True)
    api.join(live["id"], "cleo@example.com")
    pending = api.ok(
        "GET", f"/campaigns/{live['id']}/participants", query_string={"status": "pending"}
    )["items"]
    assert [p["email"] for p in pending] == ["cleo@example.com"]
    assert PARTICIPANT_FIELDS <= set(pending[0])
    bad = api.get(f"/campaigns/{live['id']}/participants", query_string={"status": "happy"})
    assert set(assert_problem(bad, 422)["errors"]) == {"status"}


def test_a_bad_limit_or_cursor_answers_422_naming_it(api: Api, live: dict[str, Any]) -> None:
    path = f"/campaigns/{live['id']}/participants"
    assert set(assert_problem(api.get(path, query_string={"limit": 0}), 422)["errors"]) == {"limit"}
    assert set(assert_problem(api.get(path, query_string={"cursor": "zz"}), 422)["errors"]) == {
        "cursor"
    }


# --- confirming -------------------------------------------------------------------------------


def test_confirming_a_rejected_participant_answers_409(api: Api, live: dict[str, Any]) -> None:
    ben = api.join(live["id"], "ben@example.com")
    row = db.session.get(Participation, int(ben["id"]))
    assert row is not None
    row.status = "rejected"
    db.session.commit()
    assert_problem(api.post(f"/participants/{ben['id']}/confirm"), 409)
    assert count(Event, Event.kind == "signup_confirmed") == 0


def test_confirming_an_unknown_participant_answers_404(api: Api) -> None:
    assert_problem(api.post("/participants/424242/confirm"), 404)


def test_twenty_concurrent_confirmations_pay_signup_confirmed_once(
    app: Flask, api: Api, live: dict[str, Any]
) -> None:
    api.rule(live["id"], event="signup_confirmed", level=0, reward="points", amount=10)
    api.rule(live["id"], event="signup_confirmed", level=1, reward="points", amount=100)
    anna = api.join(live["id"], "anna@example.com", confirmed=True)
    ben = api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"])

    def confirm() -> int:
        return api.post(f"/participants/{ben['id']}/confirm").status_code

    statuses, errors = race(app, 20, confirm)
    assert errors == []
    assert statuses == [200] * 20
    ben_id, anna_id = int(ben["id"]), int(anna["id"])
    assert count(Event, Event.kind == "signup_confirmed", Event.participation_id == ben_id) == 1
    paid = count(LedgerEntry, LedgerEntry.participation_id.in_((ben_id, anna_id)))
    assert paid == 2  # ben's level 0 and anna's level 1, once (nobody referred anna)
    assert api.ok("GET", f"/participants/{anna['id']}")["points"] == 100


def test_only_a_lottery_participant_has_the_lottery_fields(api: Api, live: dict[str, Any]) -> None:
    """What they hold, and when: tests/services/test_participants_api_rules.py."""
    body = api.join(live["id"], "anna@example.com")
    assert "entry_id" not in body and "entries" not in body
    lottery = api.campaign(name="Bike draw", kind="lottery", rules=LOTTERY_RULES)
    entrant = api.join(lottery["id"], "entrant@example.com", confirmed=True)
    assert (entrant["entry_id"], entrant["entries"]) == (None, 1)
    api.ok("POST", f"/campaigns/{lottery['id']}/close")
    frozen = api.ok("GET", f"/participants/{entrant['id']}")
    assert isinstance(frozen["entry_id"], str) and frozen["entries"] == 1
