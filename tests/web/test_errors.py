"""Errors: friendly HTML pages for people, problem+json for the API, security headers on
everything, and never a 500 for anything a client sends."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.conftest import Browser
from tests.factories import Factory

API = "/api/v1"
PROBLEM = "application/problem+json"
TOO_BIG = 3 * 1024 * 1024  # over MAX_CONTENT_LENGTH (2 MiB)


@pytest.fixture
def secret(factory: Factory) -> str:
    _, secret = factory.api_key(factory.workspace())
    return secret


def assert_friendly_page(response: Any, status: int) -> str:
    """An HTML page in our layout that names the status and links home."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'class="site-header"' in html and '<main id="main"' in html  # our layout
    assert 'href="/"' in html  # a way home
    assert str(status) in html
    assert "Traceback" not in html
    return html


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


# --- HTML pages ------------------------------------------------------------------------------


def test_an_unknown_page_gets_a_friendly_404_in_our_layout(
    client: FlaskClient, subtests: pytest.Subtests
) -> None:
    for path in ("/no-such-page", "/admin-nope", "/c/", "/apiary", "/api"):
        with subtests.test(path=path):
            html = assert_friendly_page(client.get(path), 404)
            assert "Go to the home page" in html


def test_a_method_a_page_does_not_take_gets_a_friendly_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/login")
    assert_friendly_page(response, 405)
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_missing_campaign_in_the_admin_is_a_page_not_json(
    login_as: Any, browser: Browser
) -> None:
    """Does a domain error inside the admin (a campaign of no workspace of yours) come back
    as a page? Yes: only /api/ speaks problem+json."""
    login_as("owner")
    assert_friendly_page(browser.client.get("/admin/campaigns/0"), 404)


def test_an_unexpected_error_shows_a_friendly_500_page_without_details(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom() -> Any:
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom-for-test", "boom_page", boom)
    app.add_url_rule(f"{API}/boom-for-test", "boom_api", boom)

    page = app.test_client().get("/boom-for-test")
    html = assert_friendly_page(page, 500)
    assert "secret internals" not in html

    problem = assert_problem(app.test_client().get(f"{API}/boom-for-test"), 500)
    assert "secret internals" not in str(problem)


BUSY = {
    "locked": OperationalError("SELECT 1", {}, Exception("database is locked")),
    "down": OperationalError("SELECT 1", {}, Exception("connection refused")),
    "pool": PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
}


def test_a_busy_or_absent_database_answers_503_with_retry_after(
    app: Flask, subtests: pytest.Subtests
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    raised: list[Exception] = []

    def busy() -> Any:
        raise raised[-1]

    app.add_url_rule("/busy-for-test", "busy_page", busy)
    app.add_url_rule(f"{API}/busy-for-test", "busy_api", busy)

    for name, error in BUSY.items():
        with subtests.test(error=name):
            raised.append(error)
            page = app.test_client().get("/busy-for-test")
            html = assert_friendly_page(page, 503)
            assert page.headers["Retry-After"] == "5"
            assert "locked" not in html and "refused" not in html

            api = app.test_client().get(f"{API}/busy-for-test")
            problem = assert_problem(api, 503)
            assert api.headers["Retry-After"] == "5"
            assert "try again" in problem["detail"]


# --- problem+json under /api/ ----------------------------------------------------------------


UNKNOWN_API_PATHS = [
    f"{API}/nope",
    f"{API}/campaigns/1/nope",
    f"{API}/campaigns/",
    "/api/v2/campaigns",
    "/api/",
    "/api/v1/",
]


def test_an_unknown_api_path_answers_problem_json(
    client: FlaskClient, secret: str, subtests: pytest.Subtests
) -> None:
    for headers in ({}, {"Authorization": f"Bearer {secret}"}):
        for path in UNKNOWN_API_PATHS:
            with subtests.test(path=path, key=bool(headers)):
                problem = assert_problem(client.get(path, headers=headers), 404)
                assert "<html" not in str(problem)


def test_a_wrong_method_on_the_api_answers_problem_json_with_allow(
    client: FlaskClient, secret: str
) -> None:
    response = client.delete(f"{API}/campaigns", headers={"Authorization": f"Bearer {secret}"})
    assert_problem(response, 405)
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- security headers ------------------------------------------------------------------------


def _csp(response: Any) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def _responses(client: FlaskClient, secret: str) -> dict[str, Any]:
    key = {"Authorization": f"Bearer {secret}"}
    return {
        "login page": client.get("/login"),
        "home page": client.get("/"),
        "HTML 404": client.get("/no-such-page"),
        "API list": client.get(f"{API}/campaigns", headers=key),
        "API 401": client.get(f"{API}/campaigns"),
        "API 404": client.get(f"{API}/campaigns/0", headers=key),
        "API 400": client.post(
            f"{API}/campaigns", headers=key, data="{", content_type="application/json"
        ),
        "OpenAPI document": client.get(f"{API}/openapi.json"),
    }


def test_every_kind_of_response_carries_the_security_headers(
    client: FlaskClient, secret: str
) -> None:
    for name, response in _responses(client, secret).items():
        csp = _csp(response)
        assert csp.get("default-src") == "'self'", name
        assert csp.get("frame-ancestors") == "'none'", name
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name
        assert response.headers.get("X-Frame-Options", "").upper() == "DENY", name
        assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", name


def test_the_content_security_policy_allows_no_inline_script_or_plugins(
    client: FlaskClient,
) -> None:
    csp = _csp(client.get("/login"))
    assert "'unsafe-inline'" not in csp.get("script-src", csp["default-src"])
    assert csp.get("object-src") == "'none'"
    assert csp.get("base-uri") == "'self'"
    assert csp.get("form-action") == "'self'"


# --- never a 500 for what a client sends -----------------------------------------------------


def test_an_oversized_api_body_answers_413_problem_json(client: FlaskClient, secret: str) -> None:
    body = b'{"name": "' + b"x" * TOO_BIG + b'", "kind": "referral"}'
    response = client.post(
        f"{API}/campaigns",
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_an_oversized_form_answers_413_not_500(
    login_as: Any, browser: Browser, subtests: pytest.Subtests
) -> None:
    login_as("owner")
    for path in ("/login", "/admin/campaigns/new", "/admin/api-keys"):
        with subtests.test(path=path):
            response = browser.client.post(
                path,
                data=b"name=" + b"x" * TOO_BIG,
                content_type="application/x-www-form-urlencoded",
            )
            assert response.status_code == 413
            assert response.mimetype == "text/html"


def test_an_oversized_body_to_a_landing_page_answers_413(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = factory.campaign(status="live")
    response = client.post(
        f"/c/{campaign.slug}",
        data=b"email=" + b"x" * TOO_BIG,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413


NOT_UTF8 = [
    b'{"name": "\xff\xfe", "kind": "referral"}',
    b'{"name": "\xc3\x28", "kind": "referral"}',
    b'{"name": "\xed\xa0\x80", "kind": "referral"}',  # an encoded surrogate
    b"\xff" * 64,
]


def test_invalid_utf8_in_json_answers_400(
    client: FlaskClient, secret: str, subtests: pytest.Subtests
) -> None:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    for raw in NOT_UTF8:
        with subtests.test(raw=raw[:20]):
            response = client.post(f"{API}/campaigns", data=raw, headers=headers)
            problem = assert_problem(response, 400)
            assert "UTF-8" in problem["detail"]


API_GARBAGE = [
    pytest.param("POST", "/campaigns", {"json": {"name": "A\x00B", "kind": "referral"}}, id="NUL"),
    pytest.param(
        "POST",
        "/campaigns",
        {"data": b'{"name": "\\ud800", "kind": "referral"}', "content_type": "application/json"},
        id="lone surrogate escape",
    ),
    pytest.param(
        "POST",
        "/campaigns",
        {"json": {"name": "A", "kind": "lottery", "rules": {"sponsor": "\x00"}}},
        id="NUL in rules",
    ),
    pytest.param(
        "POST",
        "/campaigns",
        {"json": {"name": "A", "kind": "referral", "slug": "a\x00b"}},
        id="NUL in slug",
    ),
    pytest.param(
        "POST", "/campaigns", {"json": {"name": "x" * 1_000_000, "kind": "referral"}}, id="1 MB"
    ),
    pytest.param(
        "POST",
        "/campaigns",
        {"json": {"name": "A", "kind": "referral", "attribution_days": 10**400}},
        id="huge int",
    ),
    pytest.param(
        "POST",
        "/campaigns",
        {"json": {"name": "A", "kind": "referral", "starts_at": "9999-12-31T23:59:59-23:59"}},
        id="time past 9999",
    ),
    pytest.param(
        "POST",
        "/campaigns",
        {"data": "{}", "content_type": "application/json; charset=klingon"},
        id="unknown charset",
    ),
    pytest.param("GET", "/campaigns?limit=%00", {}, id="NUL limit"),
    pytest.param("GET", "/campaigns?cursor=%00", {}, id="NUL cursor"),
    pytest.param("GET", "/campaigns?cursor=%ff%fe&limit=%ff", {}, id="bad percent bytes"),
    pytest.param("GET", "/campaigns?" + "a=1&" * 5000, {}, id="many params"),
    pytest.param("GET", "/campaigns/%00", {}, id="NUL id"),
    pytest.param("GET", "/campaigns/%ff", {}, id="bad byte id"),
    pytest.param("GET", "/campaigns/" + "9" * 5000, {}, id="5000-digit id"),
    pytest.param("PATCH", "/campaigns/1", {"json": {"name": "\x00"}}, id="PATCH NUL"),
    pytest.param("PATCH", "/campaigns/1", {"json": {"rules": []}}, id="PATCH rules list"),
    pytest.param("POST", "/campaigns/1/publish", {"data": b"\xff\x00"}, id="publish binary"),
    pytest.param("OPTIONS", "/campaigns", {}, id="OPTIONS"),
    pytest.param("HEAD", "/campaigns/1", {}, id="HEAD"),
]


def test_garbage_sent_to_the_api_never_causes_a_server_error(
    client: FlaskClient, factory: Factory, subtests: pytest.Subtests
) -> None:
    workspace = factory.workspace()
    factory.campaign(workspace, kind="lottery", settings={})
    _, key = factory.api_key(workspace)
    headers = {"Authorization": f"Bearer {key}"}
    for case in API_GARBAGE:
        method, path, kwargs = case.values
        with subtests.test(case.id):
            response = client.open(API + path, method=method, headers=headers, **kwargs)
            assert response.status_code < 500
            if response.status_code >= 400 and method != "HEAD":
                assert response.mimetype == PROBLEM


OVERSIZED_ID = "99999999999999999999999"

ADMIN_GARBAGE = [
    pytest.param("GET", "/admin/campaigns/abc", None, id="word id"),
    pytest.param("GET", "/admin/campaigns/-1", None, id="negative id"),
    pytest.param("GET", "/admin/campaigns?page=abc&sort=%00&status=%FF", None, id="list junk"),
    pytest.param("GET", "/admin/customers?q=%FF%FE", None, id="search bad bytes"),
    pytest.param("GET", "/admin/customers?q=" + "x" * 5000, None, id="search 5000 chars"),
    pytest.param("GET", "/admin/review?status=%00", None, id="review NUL"),
    pytest.param("GET", "/login?next=%00%ff", None, id="login next junk"),
    pytest.param("GET", "/?%ff=%fe", None, id="home junk query"),
    pytest.param("GET", "/r/%00%ff", None, id="link NUL"),
    pytest.param("GET", "/r/" + "x" * 5000, None, id="link 5000 chars"),
    pytest.param("POST", "/admin/campaigns/new", {"name": "A\x00B", "kind": "referral"}, id="NUL"),
    pytest.param(
        "POST", "/admin/campaigns/new", {"name": "x" * 100_000, "kind": "x"}, id="long name"
    ),
    pytest.param(
        "POST",
        "/admin/campaigns/{id}/edit",
        {"starts_at": "9999-12-31T23:59", "ends_at": "0001-01-01T00:00"},
        id="edit extreme dates",
    ),
    pytest.param(
        "POST",
        "/admin/campaigns/{id}/rules",
        {"event": "purchase", "level": "1", "reward": "points", "amount": "9" * 30},
        id="rule huge amount",
    ),
    pytest.param("POST", "/admin/campaigns/{id}/coupons", {"codes": "A\x00B\nC"}, id="coupon NUL"),
    pytest.param("POST", "/admin/workspace", {"workspace_id": "\x00"}, id="workspace NUL"),
    pytest.param("GET", "/admin/customers?q=a%00b", None, id="search NUL"),
    pytest.param("GET", "/admin/campaigns/{id}/participants?q=%00", None, id="participants NUL"),
    pytest.param("GET", f"/admin/campaigns/{OVERSIZED_ID}", None, id="huge id"),
    pytest.param("POST", f"/admin/api-keys/{OVERSIZED_ID}/revoke", {}, id="revoke huge id"),
    pytest.param(
        "POST",
        "/admin/campaigns/new",
        {"name": "Fine", "kind": "referral", "reward_depth": "1" + "0" * 400},
        id="400-digit depth",
    ),
    pytest.param("POST", "/admin/api-keys", {"name": "k\x00"}, id="key NUL"),
    pytest.param("GET", "/c/%00", None, id="landing NUL"),
]


def _send(browser: Browser, method: str, path: str, form: Any) -> Any:
    return browser.client.get(path) if method == "GET" else browser.post(path, form)


def test_garbage_sent_to_the_admin_and_pages_never_causes_a_server_error(
    login_as: Any, browser: Browser, factory: Factory, subtests: pytest.Subtests
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace)
    for case in ADMIN_GARBAGE:
        method, path, form = case.values
        with subtests.test(case.id):
            response = _send(browser, method, path.format(id=campaign.id), form)
            assert response.status_code < 500


def test_invalid_utf8_in_a_form_never_causes_a_server_error(
    login_as: Any, browser: Browser
) -> None:
    login_as("owner")
    response = browser.client.post(
        "/admin/campaigns/new",
        data=b"name=%ff%fe\xff\xfe&kind=\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (400, 422)


# --- NUL characters and numbers out of range: a clear 4xx, nothing stored -------------------


def test_a_nul_in_an_admin_form_re_renders_the_form_naming_the_field(
    login_as: Any, browser: Browser
) -> None:
    login_as("owner")
    response = browser.post("/admin/campaigns/new", {"name": "A\x00B", "kind": "referral"})
    assert response.status_code in (200, 422)
    assert "Remove the NUL character from this field." in response.get_data(as_text=True)
    assert "A\x00B" not in browser.client.get("/admin/campaigns").get_data(as_text=True)
    response = browser.post("/admin/api-keys", {"name": "k\x00"}, form_page="/admin/api-keys")
    assert response.status_code in (200, 422)
    assert "Remove the NUL character from this field." in response.get_data(as_text=True)


def test_a_nul_in_an_address_is_no_such_page_in_the_reader_s_language(
    client: FlaskClient,
) -> None:
    response = client.get("/c/%00?lang=de")
    html = assert_friendly_page(response, 404)
    assert "Diese Seite gibt es nicht." in html


def test_an_id_beyond_the_database_integer_is_simply_not_found(login_as: Any, browser: Browser):
    login_as("owner")
    response = browser.client.get(f"/admin/campaigns/{OVERSIZED_ID}")
    assert_friendly_page(response, 404)
    response = browser.client.get(f"/admin/campaigns/{2**31}")
    assert_friendly_page(response, 404)


def test_a_400_digit_number_in_a_form_is_an_ordinary_field_error(
    login_as: Any, browser: Browser
) -> None:
    login_as("owner")
    response = browser.post(
        "/admin/campaigns/new",
        {"name": "Fine", "kind": "referral", "reward_depth": "1" + "0" * 400},
    )
    assert response.status_code in (200, 422)
    assert "Not a valid integer value." in response.get_data(as_text=True)
    assert "Fine" not in browser.client.get("/admin/campaigns").get_data(as_text=True)
