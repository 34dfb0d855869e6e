"""The campaign endpoints of the JSON API, held to the contract in docs/API.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.domain.campaigns import LOTTERY_RULE_FIELDS
from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.models.base import utcnow
from referral.services.api_keys import revoke_api_key
from tests.factories import Factory
from tests.web.conftest import (
    API,
    PROBLEM,
    Api,
    assert_iso_with_offset,
    assert_problem,
    check_generated_requests,
)

# Every campaign route: method, path (``{id}`` for the campaign) and a body it would accept.
ROUTES = [
    ("GET", "/campaigns", None),
    ("POST", "/campaigns", {"name": "New", "kind": "referral"}),
    ("GET", "/campaigns/{id}", None),
    ("PATCH", "/campaigns/{id}", {"name": "Taken over"}),
    ("POST", "/campaigns/{id}/publish", None),
    ("POST", "/campaigns/{id}/close", None),
]
ID_ROUTES = [route for route in ROUTES if "{id}" in route[1]]


# --- authentication -------------------------------------------------------------------------


def test_every_route_refuses_a_request_without_a_key_with_a_bearer_challenge(
    client: FlaskClient, factory: Factory, subtests: pytest.Subtests
) -> None:
    campaign = factory.campaign()
    for method, path, body in ROUTES:
        with subtests.test(route=f"{method} {path}"):
            response = client.open(API + path.format(id=campaign.id), method=method, json=body)
            problem = assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert "Authorization" in problem["detail"]


BAD_AUTHORIZATIONS = [
    "Bearer rk_not-a-real-key",
    "Bearer ",
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "Token rk_whatever",
    "rk_no-scheme-at-all",
    "Bearer " + "x" * 10_000,
    "Bearer rk_\u00e9\u00e8",
]


def test_a_bad_key_is_refused_with_401(client: FlaskClient, subtests: pytest.Subtests) -> None:
    for authorization in BAD_AUTHORIZATIONS:
        with subtests.test(authorization=authorization[:40]):
            response = client.get(f"{API}/campaigns", headers={"Authorization": authorization})
            assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_with_one_character_changed_is_refused(api: Api, client: FlaskClient) -> None:
    tampered = api.secret[:-1] + ("A" if api.secret[-1] != "A" else "B")
    response = client.get(f"{API}/campaigns", headers={"Authorization": f"Bearer {tampered}"})
    assert_problem(response, 401)


def test_a_revoked_key_stops_working_at_once(
    client: FlaskClient, factory: Factory, workspace: Workspace
) -> None:
    key, secret = factory.api_key(workspace)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/campaigns", headers=headers).status_code == 200
    revoke_api_key(key)
    response = client.get(f"{API}/campaigns", headers=headers)
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_bearer_scheme_is_case_insensitive(api: Api, client: FlaskClient) -> None:
    response = client.get(f"{API}/campaigns", headers={"Authorization": f"bearer {api.secret}"})
    assert response.status_code == 200


def test_a_request_notes_when_its_key_was_last_used_and_a_refused_key_notes_nothing(
    client: FlaskClient, factory: Factory, workspace: Workspace
) -> None:
    """How often a key's use is written: tests/services/test_api_keys.py."""
    key, secret = factory.api_key(workspace)
    headers = {"Authorization": f"Bearer {secret}"}
    assert key.last_used_at is None
    before = utcnow()
    client.get(f"{API}/campaigns", headers=headers)
    db.session.refresh(key)
    first = key.last_used_at
    assert first is not None and first >= before - timedelta(seconds=1)
    client.get(f"{API}/campaigns", headers=headers)
    db.session.refresh(key)
    assert key.last_used_at == first  # within the minute: not written again
    refused, refused_secret = factory.api_key(factory.workspace())
    revoke_api_key(refused)
    client.get(f"{API}/campaigns", headers={"Authorization": f"Bearer {refused_secret}"})
    db.session.refresh(refused)
    assert refused.last_used_at is None


# --- one workspace cannot see or touch another's campaigns -----------------------------------


@pytest.mark.parametrize("status", ["draft", "live"])
def test_a_key_of_workspace_b_can_neither_read_nor_change_a_campaign_of_workspace_a(
    api: Api,
    other_api: Api,
    factory: Factory,
    workspace: Workspace,
    status: str,
    subtests: pytest.Subtests,
) -> None:
    """Can an API key of workspace B read or change campaign 1 of workspace A, on any
    campaign route? No: it gets the same 404 as for an id that does not exist, and the
    campaign stays as it was."""
    campaign = factory.campaign(workspace, kind="lottery", status=status)
    before = api.get(f"/campaigns/{campaign.id}").get_json()
    for method, path, body in ID_ROUTES:
        with subtests.test(route=f"{method} {path}"):
            response = other_api.call(method, path.format(id=campaign.id), json=body)
            problem = assert_problem(response, 404)
            missing = other_api.call(method, path.format(id=campaign.id + 1000), json=body)
            assert problem == missing.get_json()  # nothing tells the two cases apart
            assert api.get(f"/campaigns/{campaign.id}").get_json() == before


def test_a_key_of_workspace_b_does_not_list_the_campaigns_of_workspace_a(
    api: Api, other_api: Api
) -> None:
    mine = api.create(name="A's secret plan")
    theirs = other_api.create(name="B's own")
    listed = other_api.get("/campaigns").get_json()["items"]
    assert [c["id"] for c in listed] == [theirs["id"]]
    assert mine["id"] not in {c["id"] for c in listed}


def test_a_campaign_created_with_a_key_belongs_to_that_keys_workspace(
    api: Api, workspace: Workspace
) -> None:
    created = api.create()
    campaign = db.session.get(Campaign, int(created["id"]))
    assert campaign is not None and campaign.workspace_id == workspace.id


NOT_IDS = [
    "abc",
    "0",
    "-1",
    "+1",
    "01",
    "1.0",
    "1e3",
    " 1",
    "1_0",
    "\u0661",
    "2147483648",  # one past PostgreSQL's INTEGER
    "9223372036854775808",  # one past BIGINT
    "99999999999999999999999",
]


def test_an_id_that_is_not_a_campaign_id_answers_404_on_every_route(
    api: Api, factory: Factory, workspace: Workspace, subtests: pytest.Subtests
) -> None:
    factory.campaign(workspace)  # id 1 exists: "+1", "01" and "1.0" must not reach it
    for method, path, body in ID_ROUTES:
        for bad_id in NOT_IDS:
            with subtests.test(route=f"{method} {path}", id=bad_id):
                assert_problem(api.call(method, path.format(id=bad_id), json=body), 404)


# --- create ------------------------------------------------------------------------------------


def test_creating_a_campaign_answers_201_with_a_draft_and_its_location(api: Api) -> None:
    response = api.post("/campaigns", json={"name": "Bring a friend", "kind": "referral"})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    campaign = response.get_json()
    assert isinstance(campaign["id"], str) and campaign["id"].isdigit()
    assert response.headers["Location"] == f"{API}/campaigns/{campaign['id']}"
    assert campaign["status"] == "draft"
    assert campaign["kind"] == "referral"
    assert campaign["reward_depth"] == 1
    assert campaign["slug"] == "bring-a-friend"
    assert campaign["landing_url"].endswith("/c/bring-a-friend")
    assert campaign["locales"] == ["en"]
    assert campaign["rules"] is None
    assert campaign["published_at"] is None and campaign["closed_at"] is None
    assert_iso_with_offset(campaign["created_at"])
    assert api.get(response.headers["Location"].removeprefix(API)).get_json() == campaign


def test_times_are_iso_8601_with_offset_and_keep_their_instant(api: Api) -> None:
    campaign = api.create(
        starts_at="2030-05-01T09:00:00+02:00", ends_at="2030-06-01T09:00:00-05:00"
    )
    starts = assert_iso_with_offset(campaign["starts_at"])
    ends = assert_iso_with_offset(campaign["ends_at"])
    assert starts == datetime.fromisoformat("2030-05-01T07:00:00+00:00")
    assert ends == datetime.fromisoformat("2030-06-01T14:00:00+00:00")


def test_a_time_without_offset_is_taken_as_utc(api: Api) -> None:
    campaign = api.create(starts_at="2030-05-01T09:00:00")
    assert assert_iso_with_offset(campaign["starts_at"]) == datetime.fromisoformat(
        "2030-05-01T09:00:00+00:00"
    )


def test_a_json_content_type_with_charset_is_accepted(api: Api) -> None:
    response = api.post(
        "/campaigns",
        data='{"name": "Caf\u00e9 cr\u00e8me", "kind": "survey"}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "Caf\u00e9 cr\u00e8me"


# The schema's own checks are listed in tests/unit/test_api_schemas.py; here, one or two
# of them prove the wiring, and the rest are decided past the schema.
SCHEMA_VIOLATIONS = [
    pytest.param({"colour": "red"}, {"colour"}, id="unknown field"),
    pytest.param({"name": "   "}, {"name"}, id="blank name"),
    pytest.param({"reward_depth": -1}, {"reward_depth"}, id="depth negative"),
    pytest.param({"attribution_days": 0}, {"attribution_days"}, id="attribution zero"),
    pytest.param({"hold_days": 366}, {"hold_days"}, id="hold too long"),
    pytest.param({"slug": "Not a slug!"}, {"slug"}, id="slug with spaces"),
    pytest.param({"slug": "-edge-"}, {"slug"}, id="slug dash at the ends"),
    pytest.param(
        {"rules": {"prizes": [{"name": "Bike", "currency": "eur", "quantity": 0}]}},
        {"rules.prizes.0.currency", "rules.prizes.0.quantity"},
        id="prize fields",
    ),
]


def test_create_answers_422_naming_each_bad_field(api: Api, subtests: pytest.Subtests) -> None:
    for case in SCHEMA_VIOLATIONS:
        fields, bad = case.values
        with subtests.test(case.id):
            body = {"name": "Spring", "kind": "lottery", **fields}
            problem = assert_problem(api.post("/campaigns", json=body), 422)
            assert set(problem["errors"]) == bad
            assert all(problem["errors"][name] for name in bad)
    assert api.get("/campaigns").get_json()["items"] == []


def test_all_bad_fields_are_named_together(api: Api) -> None:
    """Does a client fixing one field at a time need four round trips? No: one answer names
    every bad field."""
    body = {"name": "", "kind": "poll", "reward_depth": "deep", "colour": "red"}
    problem = assert_problem(api.post("/campaigns", json=body), 422)
    assert set(problem["errors"]) == {"name", "kind", "reward_depth", "colour"}


def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(api: Api) -> None:
    """JSON Schema counts 2.0 as an integer, so the API does too (but never "2" or true)."""
    campaign = api.create(reward_depth=2.0, hold_days=7.0)
    assert (campaign["reward_depth"], campaign["hold_days"]) == (2, 7)


MALFORMED_BODIES = [
    pytest.param(b"{bad", id="broken"),
    pytest.param(b'{"name": "A", "kind": "referral",}', id="trailing comma"),
    pytest.param(b"", id="empty"),
    pytest.param(b"   \n", id="whitespace"),
    pytest.param(b"[1, 2]", id="a list"),
    pytest.param(b"null", id="null"),
    pytest.param(b'"referral"', id="a string"),
    pytest.param(b"42", id="a number"),
    pytest.param(b'{"name": "A", "kind": "referral", "reward_depth": NaN}', id="NaN"),
    pytest.param(b'{"name": "A", "kind": "referral", "reward_depth": Infinity}', id="Infinity"),
    pytest.param(b'{"name": "\xff\xfe", "kind": "referral"}', id="invalid UTF-8"),
    pytest.param('{"name": "\u00e9"}'.encode("latin-1"), id="latin-1"),
    pytest.param(b"\xef\xbb\xbf{}", id="byte order mark"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply nested"),
    pytest.param(b'{"reward_depth": 1' + b"0" * 5000 + b"}", id="huge number"),
]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_malformed_json_answers_400(
    api: Api, factory: Factory, workspace: Workspace, method: str, subtests: pytest.Subtests
) -> None:
    campaign = factory.campaign(workspace)
    path = "/campaigns" if method == "POST" else f"/campaigns/{campaign.id}"
    for case in MALFORMED_BODIES:
        (raw,) = case.values
        with subtests.test(case.id):
            headers = {"Content-Type": "application/json"}
            problem = assert_problem(api.call(method, path, data=raw, headers=headers), 400)
            assert problem["detail"]


NOT_JSON = [
    ("application/x-www-form-urlencoded", "name=Spring&kind=referral"),
    ("text/plain", '{"name": "Spring", "kind": "referral"}'),
    ("multipart/form-data; boundary=x", "--x--"),
    ("application/xml", "<campaign/>"),
    (None, '{"name": "Spring", "kind": "referral"}'),
]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_is_not_sent_as_json_answers_400(
    api: Api, factory: Factory, workspace: Workspace, method: str, subtests: pytest.Subtests
) -> None:
    campaign = factory.campaign(workspace, name="Untouched")
    path = "/campaigns" if method == "POST" else f"/campaigns/{campaign.id}"
    for content_type, data in NOT_JSON:
        with subtests.test(content_type=content_type):
            headers = {"Content-Type": content_type} if content_type else {}
            problem = assert_problem(api.call(method, path, data=data, headers=headers), 400)
            assert "application/json" in problem["detail"]
    assert [c["name"] for c in api.get("/campaigns").get_json()["items"]] == ["Untouched"]


def test_a_missing_key_is_answered_before_a_malformed_body(client: FlaskClient) -> None:
    response = client.post(f"{API}/campaigns", data="{bad", content_type="application/json")
    assert_problem(response, 401)


# --- read and change -------------------------------------------------------------------------


def test_a_campaign_reads_back_as_it_was_created(api: Api) -> None:
    created = api.create(description="Tell a friend.")
    response = api.get(f"/campaigns/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created


def test_patch_can_clear_the_dates(api: Api) -> None:
    created = api.create(starts_at="2030-01-01T00:00:00Z", ends_at="2030-02-01T00:00:00Z")
    changed = api.patch(f"/campaigns/{created['id']}", json={"ends_at": None}).get_json()
    assert changed["ends_at"] is None and changed["starts_at"] is not None


# More bad changes the schema refuses: tests/unit/test_api_schemas.py (PATCH_VIOLATIONS);
# those decided past it: tests/services/test_campaign_lifecycle.py. Here, one of each.
PATCH_VIOLATIONS = [
    pytest.param({"colour": "red"}, {"colour"}, id="unknown field"),
    pytest.param({"kind": "survey"}, {"kind"}, id="kind changes"),
]


def test_patch_answers_422_naming_each_bad_field_and_changes_nothing(
    api: Api, subtests: pytest.Subtests
) -> None:
    created = api.create(starts_at="2030-01-01T00:00:00Z")
    for case in PATCH_VIOLATIONS:
        fields, bad = case.values
        with subtests.test(case.id):
            problem = assert_problem(api.patch(f"/campaigns/{created['id']}", json=fields), 422)
            assert set(problem["errors"]) == bad
            assert api.get(f"/campaigns/{created['id']}").get_json() == created


def test_a_closed_campaign_cannot_be_changed(api: Api) -> None:
    created = api.create()
    api.post(f"/campaigns/{created['id']}/publish")
    closed = api.post(f"/campaigns/{created['id']}/close").get_json()
    assert_problem(api.patch(f"/campaigns/{created['id']}", json={"name": "Again"}), 409)
    assert api.get(f"/campaigns/{created['id']}").get_json() == closed


# --- publish and close ------------------------------------------------------------------------


def test_publishing_a_lottery_without_rules_names_each_missing_rules_field(api: Api) -> None:
    lottery = api.create(kind="lottery")
    problem = assert_problem(api.post(f"/campaigns/{lottery['id']}/publish"), 422)
    assert set(problem["errors"]) == {f"rules.{name}" for name in LOTTERY_RULE_FIELDS}
    assert "rules.sponsor" in problem["errors"]
    assert api.get(f"/campaigns/{lottery['id']}").get_json()["status"] == "draft"


def test_publish_then_close_walks_a_campaign_through_its_life(api: Api) -> None:
    created = api.create()
    live = api.post(f"/campaigns/{created['id']}/publish").get_json()
    assert live["status"] == "live" and live["closed_at"] is None
    response = api.post(f"/campaigns/{created['id']}/close")
    assert response.status_code == 200
    closed = response.get_json()
    assert closed["status"] == "closed"
    assert_iso_with_offset(closed["closed_at"])
    assert closed["published_at"] == live["published_at"]


def test_publishing_twice_answers_409(api: Api) -> None:
    created = api.create()
    live = api.post(f"/campaigns/{created['id']}/publish").get_json()
    problem = assert_problem(api.post(f"/campaigns/{created['id']}/publish"), 409)
    assert "draft" in problem["detail"]
    assert api.get(f"/campaigns/{created['id']}").get_json() == live


# --- methods ------------------------------------------------------------------------------------


WRONG_METHODS = [
    ("DELETE", "/campaigns", {"GET", "POST"}),
    ("PUT", "/campaigns", {"GET", "POST"}),
    ("DELETE", "/campaigns/1", {"GET", "PATCH"}),
    ("PUT", "/campaigns/1", {"GET", "PATCH"}),
    ("POST", "/campaigns/1", {"GET", "PATCH"}),
    ("GET", "/campaigns/1/publish", {"POST"}),
    ("DELETE", "/campaigns/1/close", {"POST"}),
]


def test_a_method_a_route_does_not_have_answers_405_with_allow(
    api: Api, subtests: pytest.Subtests
) -> None:
    for method, path, allowed in WRONG_METHODS:
        with subtests.test(f"{method} {path}"):
            response = api.call(method, path)
            assert_problem(response, 405)
            assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- pagination -------------------------------------------------------------------------------


def test_an_empty_workspace_lists_no_campaigns(api: Api) -> None:
    response = api.get("/campaigns")
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "next_cursor": None}


def test_listed_campaigns_have_string_ids_and_times_with_offset(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    factory.campaign(workspace, starts_at=utcnow())
    item = api.get("/campaigns").get_json()["items"][0]
    assert isinstance(item["id"], str)
    assert_iso_with_offset(item["created_at"])
    assert_iso_with_offset(item["starts_at"])


def test_a_limit_out_of_1_to_500_answers_422(api: Api, subtests: pytest.Subtests) -> None:
    # Every limit refused: tests/services/test_campaign_lifecycle.py; "" is the query's own.
    for limit in ("0", "abc", ""):
        with subtests.test(limit=limit):
            problem = assert_problem(api.get("/campaigns", query_string={"limit": limit}), 422)
            assert set(problem["errors"]) == {"limit"}


# Every cursor refused: tests/services/test_campaign_lifecycle.py.
FOREIGN_CURSORS = ["garbage", "x" * 300]


def test_a_cursor_we_did_not_make_answers_422(
    api: Api, factory: Factory, workspace: Workspace, subtests: pytest.Subtests
) -> None:
    factory.campaign(workspace)
    for cursor in FOREIGN_CURSORS:
        with subtests.test(cursor=cursor[:40]):
            problem = assert_problem(api.get("/campaigns", query_string={"cursor": cursor}), 422)
            assert set(problem["errors"]) == {"cursor"}


# --- the OpenAPI document ---------------------------------------------------------------------


OPERATIONS = {
    ("/api/v1/campaigns", "get"): {401, 422},
    ("/api/v1/campaigns", "post"): {400, 401, 422},
    ("/api/v1/campaigns/{campaign_id}", "get"): {401, 404},
    ("/api/v1/campaigns/{campaign_id}", "patch"): {400, 401, 404, 409, 422},
    ("/api/v1/campaigns/{campaign_id}/publish", "post"): {401, 404, 409, 422},
    ("/api/v1/campaigns/{campaign_id}/close", "post"): {401, 404, 409},
}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_the_openapi_document_is_valid(openapi: dict[str, Any]) -> None:
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    assert openapi["openapi"].startswith("3.1")
    errors = [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(openapi)]
    assert errors == []
    for ref in _refs(openapi):
        node: Any = openapi
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"dangling $ref {ref}"
            node = node[part]


def test_the_openapi_document_describes_every_campaign_operation(
    openapi: dict[str, Any],
) -> None:
    paths = openapi["paths"]
    for (path, method), errors in OPERATIONS.items():
        operation = paths[path][method]
        assert operation["summary"] and operation["operationId"]
        assert operation["security"] == [{"BearerAuth": []}]
        success = {code for code in operation["responses"] if code.startswith("2")}
        assert success == ({"201"} if (path, method) == ("/api/v1/campaigns", "post") else {"200"})
        for code in errors:
            response = operation["responses"][str(code)]
            assert set(response["content"]) == {PROBLEM}, (path, method, code)
            assert response["content"][PROBLEM]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
        if "requestBody" in operation:
            assert operation["requestBody"]["required"] is True
            assert set(operation["requestBody"]["content"]) == {"application/json"}


def test_the_openapi_document_names_the_bearer_scheme_and_the_problem_shape(
    openapi: dict[str, Any],
) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["BearerAuth"]["type"] == "http"
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    campaign_in = openapi["components"]["schemas"]["CampaignIn"]
    assert campaign_in["properties"]["kind"]["enum"] == [
        "referral",
        "lottery",
        "survey",
        "trial",
        "instant_win",  # added after docs/API.md's four (the contract allows adding)
    ]
    assert campaign_in["properties"]["reward_depth"]["maximum"] == 2  # this server's ceiling
    assert campaign_in["additionalProperties"] is False
    limit = next(
        p
        for p in openapi["paths"]["/api/v1/campaigns"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)
    assert limit["schema"]["default"] == 50


def test_the_openapi_document_needs_no_key(client: FlaskClient) -> None:
    assert client.get(f"{API}/openapi.json").status_code == 200


# --- property-based: schemathesis -----------------------------------------------------------


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_every_answer_matches_the_document(
    app: Flask, factory: Factory
) -> None:
    """Generated requests, valid and invalid, against every campaign operation: never a 500,
    and every response (problems included) conforms to the OpenAPI document."""
    workspace = factory.workspace()
    _, secret = factory.api_key(workspace)
    draft = factory.campaign(workspace, kind="lottery", settings={})
    factory.campaign(workspace, status="live")

    fixed = {"campaign_id": str(draft.id)}
    checked = check_generated_requests(app, secret, OPERATIONS, fixed, max_examples=10)
    assert {(op.path, op.method.lower()) for op in checked} == set(OPERATIONS)
