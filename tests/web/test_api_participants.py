"""Participants through the JSON API: join, read, list, confirm (docs/API.md)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.extensions import db
from referral.models import Event, LedgerEntry, OutboxMessage, Participation
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


def test_an_unconfirmed_participant_is_sent_a_confirmation_email(
    api: Api, live: dict[str, Any]
) -> None:
    api.join(live["id"], "anna@example.com")
    assert count(OutboxMessage, OutboxMessage.to_address == "anna@example.com") == 1


def test_a_participant_the_caller_confirmed_gets_no_email_and_is_confirmed(
    api: Api, live: dict[str, Any]
) -> None:
    body = api.join(live["id"], "anna@example.com", confirmed=True)
    assert body["status"] == "confirmed"
    assert_iso_with_offset(body["confirmed_at"])
    assert count(OutboxMessage) == 0


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


def test_a_referral_code_makes_its_owner_the_referrer(api: Api, live: dict[str, Any]) -> None:
    anna = api.join(live["id"], "anna@example.com", confirmed=True)
    ben = api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"])
    assert (ben["referrer_id"], ben["depth"], ben["referral_status"]) == (anna["id"], 1, "referred")


def test_an_unknown_code_joins_without_a_referrer_and_says_why(
    api: Api, live: dict[str, Any]
) -> None:
    ben = api.join(live["id"], "ben@example.com", referral_code="NOSUCHCODE")
    assert (ben["referrer_id"], ben["referral_status"]) == (None, "unknown_code")


def test_a_code_of_another_campaign_is_an_unknown_code(api: Api, live: dict[str, Any]) -> None:
    other = api.campaign(name="Other")
    anna = api.join(other["id"], "anna@example.com")
    ben = api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"])
    assert (ben["referrer_id"], ben["referral_status"]) == (None, "unknown_code")


def test_a_self_referral_from_the_same_device_joins_without_a_referrer_and_says_why(
    api: Api, live: dict[str, Any]
) -> None:
    anna = api.join(live["id"], "anna@example.com", visitor_id="device-1")
    alias = api.join(
        live["id"],
        "anna.other@example.com",
        referral_code=anna["referral_code"],
        visitor_id="device-1",
    )
    assert (alias["referrer_id"], alias["referral_status"]) == (None, "self_referral")
    friend = api.join(
        live["id"], "ben@example.com", referral_code=anna["referral_code"], visitor_id="device-2"
    )
    assert friend["referral_status"] == "referred"


def test_the_visitor_id_is_stored_only_as_a_hash(api: Api, live: dict[str, Any]) -> None:
    body = api.join(live["id"], "anna@example.com", visitor_id="device-secret-1")
    stored = db.session.get(Participation, int(body["id"]))
    assert stored is not None and stored.visitor_hash
    assert "device-secret-1" not in stored.visitor_hash


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


@pytest.mark.parametrize("raw", [b"{", b"[]", b"", b"\xff\xfe", b'{"email": NaN}'])
def test_a_malformed_body_answers_400(api: Api, live: dict[str, Any], raw: bytes) -> None:
    response = api.post(
        f"/campaigns/{live['id']}/participants", data=raw, content_type="application/json"
    )
    assert_problem(response, 400)


def test_joining_without_a_key_answers_401(client: FlaskClient, live: dict[str, Any]) -> None:
    response = client.post(
        f"/api/v1/campaigns/{live['id']}/participants", json={"email": "a@example.com"}
    )
    assert_problem(response, 401)
    assert count(Participation) == 0


# --- reading and listing ------------------------------------------------------------------------


def test_a_participant_reads_back_with_its_referral_count_and_points(
    api: Api, live: dict[str, Any]
) -> None:
    api.rule(live["id"], event="signup_confirmed", level=1, reward="points", amount=100)
    anna = api.join(live["id"], "anna@example.com", confirmed=True)
    api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"], confirmed=True)
    api.join(live["id"], "cleo@example.com", referral_code=anna["referral_code"])  # pending
    read = api.ok("GET", f"/participants/{anna['id']}")
    assert (read["referrals_confirmed"], read["points"]) == (1, 100)
    assert read["id"] == anna["id"] and read["referral_code"] == anna["referral_code"]


@pytest.mark.parametrize("ident", ["999999", "abc", "0", "-1", "01", "99999999999999999999"])
def test_an_unknown_participant_answers_404(api: Api, ident: str) -> None:
    assert_problem(api.get(f"/participants/{ident}"), 404)


def test_participants_are_listed_oldest_first_page_by_page(api: Api, live: dict[str, Any]) -> None:
    ids = [api.join(live["id"], f"p{n}@example.com")["id"] for n in range(5)]
    other = api.campaign(name="Other")
    api.join(other["id"], "elsewhere@example.com")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.ok("GET", f"/campaigns/{live['id']}/participants", query_string=query)
        assert len(body["items"]) <= 2
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


def test_the_list_shows_counts_and_can_filter_by_status(api: Api, live: dict[str, Any]) -> None:
    api.rule(live["id"], event="signup_confirmed", level=1, reward="points", amount=5)
    anna = api.join(live["id"], "anna@example.com", confirmed=True)
    api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"], confirmed=True)
    api.join(live["id"], "cleo@example.com")
    everyone = api.ok("GET", f"/campaigns/{live['id']}/participants")["items"]
    by_email = {p["email"]: p for p in everyone}
    assert (
        by_email["anna@example.com"]["referrals_confirmed"],
        by_email["anna@example.com"]["points"],
    ) == (1, 5)
    pending = api.ok(
        "GET", f"/campaigns/{live['id']}/participants", query_string={"status": "pending"}
    )["items"]
    assert [p["email"] for p in pending] == ["cleo@example.com"]
    bad = api.get(f"/campaigns/{live['id']}/participants", query_string={"status": "happy"})
    assert set(assert_problem(bad, 422)["errors"]) == {"status"}


def test_a_bad_limit_or_cursor_answers_422_naming_it(api: Api, live: dict[str, Any]) -> None:
    path = f"/campaigns/{live['id']}/participants"
    assert set(assert_problem(api.get(path, query_string={"limit": 0}), 422)["errors"]) == {"limit"}
    assert set(assert_problem(api.get(path, query_string={"cursor": "zz"}), 422)["errors"]) == {
        "cursor"
    }


# --- confirming -------------------------------------------------------------------------------


def test_confirming_pays_signup_confirmed_rules_once(api: Api, live: dict[str, Any]) -> None:
    api.rule(live["id"], event="signup_confirmed", level=0, reward="points", amount=10)
    api.rule(live["id"], event="signup_confirmed", level=1, reward="points", amount=100)
    anna = api.join(live["id"], "anna@example.com", confirmed=True)
    ben = api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"])
    confirmed = api.ok("POST", f"/participants/{ben['id']}/confirm")
    assert confirmed["status"] == "confirmed" and confirmed["points"] == 10
    assert_iso_with_offset(confirmed["confirmed_at"])
    again = api.ok("POST", f"/participants/{ben['id']}/confirm")
    assert again == confirmed
    # ben's 10 and anna's 100 for ben; anna came on her own, so her confirmation pays nothing
    assert api.ok("GET", f"/participants/{anna['id']}")["points"] == 100
    assert count(LedgerEntry) == 2


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


def test_a_lottery_participant_shows_their_entries_and_once_frozen_their_entry_id(
    api: Api,
) -> None:
    lottery = api.campaign(name="Bike draw", kind="lottery", rules=LOTTERY_RULES)
    pending = api.join(lottery["id"], "pending@example.com")
    joined = api.join(lottery["id"], "entrant@example.com", confirmed=True)
    assert (joined["entry_id"], joined["entries"]) == (None, 1)
    assert api.ok("GET", f"/participants/{pending['id']}")["entries"] == 0
    api.ok("POST", f"/campaigns/{lottery['id']}/close")
    frozen = api.ok("GET", f"/participants/{joined['id']}")
    assert frozen["entry_id"] and frozen["entries"] == 1


def test_a_referral_participant_has_no_lottery_fields(api: Api, live: dict[str, Any]) -> None:
    body = api.join(live["id"], "anna@example.com")
    assert "entry_id" not in body and "entries" not in body
