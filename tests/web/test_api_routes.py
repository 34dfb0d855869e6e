"""Every API route at once: workspace scoping, keys, the OpenAPI document, the docs page."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    Event,
    InboundHook,
    LedgerEntry,
    OutboxMessage,
    Participation,
    RewardRule,
    Segment,
)
from referral.models.journey import CustomerTag, Journey, MessageTemplate
from referral.models.webhooks import WebhookDelivery, WebhookEndpoint
from tests.factories import LOTTERY_RULES, Factory
from tests.web.conftest import API, PROBLEM, Api, assert_problem, check_generated_requests

# Every route that names a campaign ({c}), a participant ({p}), a draw ({d}), a customer
# ({u}), a journey ({j}), an outbox message ({m}), a webhook endpoint ({w}) or a segment
# ({s}), with a body.
HOOK = {"url": "https://shop.example.com/h", "events": ["reward.granted"]}
MAIL_TEXT = {"subject": "Taken over", "text": "Confirm: {{ confirm_url }}"}
ID_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/campaigns/{c}", None),
    ("PATCH", "/campaigns/{c}", {"name": "Taken over"}),
    ("POST", "/campaigns/{c}/publish", None),
    ("POST", "/campaigns/{c}/close", None),
    ("GET", "/campaigns/{c}/reward-rules", None),
    (
        "POST",
        "/campaigns/{c}/reward-rules",
        {"event": "purchase", "level": 0, "reward": "points", "amount": 5},
    ),
    ("GET", "/campaigns/{c}/participants", None),
    ("POST", "/campaigns/{c}/participants", {"email": "intruder@example.com"}),
    (
        "POST",
        "/campaigns/{c}/participants/batch",
        {"items": [{"email": "intruder@example.com"}], "basis": "Customers of ours"},
    ),
    ("POST", "/campaigns/{c}/duplicate", None),
    ("GET", "/campaigns/{c}/embed", None),
    ("PUT", "/campaigns/{c}/embed", {"origins": ["https://taken-over.example"]}),
    ("POST", "/campaigns/{c}/embed-tokens", {"participant_id": "{p}"}),
    ("POST", "/campaigns/{c}/events", {"participant_id": "{p}", "kind": "purchase"}),
    ("GET", "/campaigns/{c}/spread", None),
    ("GET", "/campaigns/{c}/spread?format=graphml", None),
    ("GET", "/participants/{p}", None),
    ("POST", "/participants/{p}/confirm", None),
    ("GET", "/participants/{p}/rewards", None),
    ("POST", "/campaigns/{c}/draws", {"winners": 1}),
    ("GET", "/draws/{d}", None),
    ("POST", "/draws/{d}/replacements", {"entry_id": "1", "reason": "Not eligible"}),
    ("GET", "/customers/{u}/export", None),
    ("POST", "/customers/{u}/erase", None),
    ("POST", "/customers/{u}/tags", {"add": ["vip"], "remove": ["old"]}),
    ("PUT", "/customers/{u}/tags/vip", None),
    ("DELETE", "/customers/{u}/tags/vip", None),
    ("GET", "/segments/{s}", None),
    ("PATCH", "/segments/{s}", {"name": "Taken over", "filters": {"tag": "vip"}}),
    ("DELETE", "/segments/{s}", None),
    ("GET", "/segments/{s}/customers", None),
    ("GET", "/segments/{s}/export", None),
    ("GET", "/campaigns/{c}/mail-texts", None),
    ("GET", "/campaigns/{c}/mail-texts/confirmation/de", None),
    ("PUT", "/campaigns/{c}/mail-texts/confirmation/de", MAIL_TEXT),
    ("DELETE", "/campaigns/{c}/mail-texts/confirmation/de", None),
    ("GET", "/journeys/{j}", None),
    ("PATCH", "/journeys/{j}", {"name": "Taken over", "status": "paused"}),
    ("POST", "/journeys/{j}/pause", None),
    ("POST", "/journeys/{j}/resume", None),
    ("GET", "/journeys/{j}/stats", None),
    ("GET", "/outbox/{m}", None),
    ("POST", "/outbox/{m}/retry", None),
    ("GET", "/webhooks/{w}", None),
    ("PATCH", "/webhooks/{w}", {"active": False}),
    ("DELETE", "/webhooks/{w}", None),
    ("POST", "/webhooks/{w}/ping", None),
    ("GET", "/integrations/{i}", None),
    ("PATCH", "/integrations/{i}", {"secret": "whsec_taken_over"}),
    ("DELETE", "/integrations/{i}", None),
]
JOURNEY = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [{"id": "hook", "type": "webhook"}, {"id": "end", "type": "exit"}],
}
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/campaigns", None),
    ("POST", "/campaigns", {"name": "New", "kind": "referral"}),
    ("GET", "/journeys", None),
    ("POST", "/journeys", {"name": "New", "definition": JOURNEY}),
    ("GET", "/outbox", None),
    ("GET", "/webhooks", None),
    ("POST", "/webhooks", HOOK),
    ("GET", "/integrations", None),
    ("POST", "/integrations", {"provider": "stripe", "secret": "whsec_0123456789"}),
    ("GET", "/segments", None),
    ("POST", "/segments", {"name": "New", "filters": {"channel": "qr"}}),
    ("GET", "/mail-texts", None),
    ("GET", "/mail-texts/confirmation/de", None),
    ("PUT", "/mail-texts/confirmation/de", MAIL_TEXT),
    ("DELETE", "/mail-texts/confirmation/de", None),
    *ID_ROUTES,
]


def _victim(client: FlaskClient, factory: Factory, path: str) -> dict[str, str]:
    """Ids of workspace A: a live campaign ({c}) with a pending participant ({p}) who is
    customer {u}; for the draw routes, a closed lottery's draw ({d}); for the journey
    routes, a running journey ({j})."""
    _, secret = factory.api_key(factory.workspace())
    owner = Api(client, secret)
    campaign = owner.campaign()
    participant = owner.join(campaign["id"], "member@example.com")
    customer = db.session.get(Participation, int(participant["id"]))
    assert customer is not None
    ids = {"c": campaign["id"], "p": participant["id"], "d": "0", "u": str(customer.customer_id)}
    if "{m}" in path:  # the participant's confirmation mail, given up on
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.customer_id == customer.customer_id)
        )
        assert message is not None
        message.status = "failed"
        db.session.commit()
        ids["m"] = str(message.id)
    if "{i}" in path:
        body = {"provider": "shopify", "secret": "shpss_0123456789"}
        ids["i"] = owner.ok("POST", "/integrations", 201, json=body)["id"]
    if "{w}" in path:
        ids["w"] = owner.ok("POST", "/webhooks", 201, json=HOOK)["id"]
    if "{s}" in path:
        body = {"name": "Theirs", "filters": {"status": "pending"}}
        ids["s"] = owner.ok("POST", "/segments", 201, json=body)["id"]
    if "mail-texts" in path:  # the campaign's and the workspace's own confirmation
        mine = {"subject": "Mine", "text": "Confirm: {{ confirm_url }}"}
        owner.ok("PUT", f"/campaigns/{campaign['id']}/mail-texts/confirmation/de", json=mine)
        owner.ok("PUT", "/mail-texts/confirmation/de", json=mine)
    if "{j}" in path:
        body = {"name": "Mine", "definition": JOURNEY, "status": "running"}
        ids["j"] = owner.ok("POST", "/journeys", 201, json=body)["id"]
    if "{d}" in path:
        lottery = owner.campaign(name="Draw", kind="lottery", rules=LOTTERY_RULES)
        for n in range(2):
            owner.join(lottery["id"], f"entrant{n}@example.com", confirmed=True)
        owner.ok("POST", f"/campaigns/{lottery['id']}/close")
        draw = owner.ok("POST", f"/campaigns/{lottery['id']}/draws", 201, json={"winners": 1})
        ids["d"] = draw["id"]
    return ids


def _fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        for name, value in ids.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {k: _fill(v, ids) for k, v in template.items()}
    return template


def snapshot() -> tuple[Any, ...]:
    db.session.rollback()  # a fresh snapshot: see what the requests committed
    counts = tuple(
        db.session.scalar(select(func.count()).select_from(m)) or 0
        for m in (
            Campaign,
            RewardRule,
            Participation,
            Event,
            LedgerEntry,
            Journey,
            CustomerTag,
            Segment,
        )
    )
    states = tuple(
        db.session.execute(select(Campaign.name, Campaign.status, Campaign.embed_origins)).all()
    )
    statuses = tuple(db.session.execute(select(Participation.status)).all())
    people = tuple(db.session.execute(select(Customer.email, Customer.erased_at)).all())
    journeys = tuple(db.session.execute(select(Journey.name, Journey.status, Journey.version)))
    segments = tuple(db.session.execute(select(Segment.name, Segment.filters)))
    texts = tuple(
        db.session.execute(
            select(MessageTemplate.key, MessageTemplate.locale, MessageTemplate.subject).order_by(
                MessageTemplate.id
            )
        )
    )
    mail = tuple(
        db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status).order_by(OutboxMessage.id)
        )
    )
    hooks = tuple(
        db.session.execute(
            select(WebhookEndpoint.url, WebhookEndpoint.events, WebhookEndpoint.active)
        )
    )
    deliveries = db.session.scalar(select(func.count()).select_from(WebhookDelivery))
    receivers = tuple(
        db.session.execute(
            select(InboundHook.provider, InboundHook.secret, InboundHook.campaign_id)
        )
    )
    return (
        counts,
        states,
        statuses,
        people,
        journeys,
        segments,
        texts,
        mail,
        hooks,
        deliveries,
        receivers,
    )


def test_the_route_list_covers_every_api_route(app: Flask) -> None:
    """A new route must join the lists above, so that the tests below hold it too."""
    listed = {(m, path.split("?")[0]) for m, path, _ in ROUTES}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.endpoint in {"api.docs", "api.swagger_file"}:
            continue
        if rule.rule == f"{API}/openapi.json":
            continue
        path = rule.rule.removeprefix(API)
        for name, short in (
            ("campaign_id", "c"),
            ("participant_id", "p"),
            ("draw_id", "d"),
            ("customer_id", "u"),
            ("journey_id", "j"),
            ("message_id", "m"),
            ("webhook_id", "w"),
            ("integration_id", "i"),
            ("segment_id", "s"),
        ):
            path = path.replace(f"<{name}>", "{" + short + "}")
        path = path.replace("<tag>", "vip").replace("<kind>/<locale>", "confirmation/de")
        served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == listed


@pytest.mark.parametrize(
    ("method", "path", "body"), ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES]
)
def test_invariant_7_only_your_workspace_a_key_of_workspace_b_gets_404_for_the_ids_of_a(
    client: FlaskClient, factory: Factory, method: str, path: str, body: Any
) -> None:
    """Can brand B read, change or pay anything of brand A by its ids? No: 404, as for an id
    that does not exist, and nothing changes."""
    ids = _victim(client, factory, path)
    _, secret = factory.api_key(factory.workspace())
    intruder = Api(client, secret)
    before = snapshot()
    response = intruder.call(method, _fill(path, ids), json=_fill(body, ids))
    assert_problem(response, 404)
    missing = {name: str(int(value) + 1000) for name, value in ids.items()}
    assert_problem(intruder.call(method, _fill(path, missing), json=_fill(body, missing)), 404)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_refuses_a_request_without_a_valid_key(
    client: FlaskClient, factory: Factory, method: str, path: str, body: Any
) -> None:
    ids = _victim(client, factory, path)
    before = snapshot()
    for headers in ({}, {"Authorization": "Bearer rk_nope"}):
        response = client.open(
            API + _fill(path, ids), method=method, json=_fill(body, ids), headers=headers
        )
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


# --- the OpenAPI document -----------------------------------------------------------------------


NEW_OPERATIONS = {
    ("/campaigns/{campaign_id}/reward-rules", "post"): ("201", {400, 401, 404, 422}),
    ("/campaigns/{campaign_id}/reward-rules", "get"): ("200", {401, 404, 422}),
    ("/campaigns/{campaign_id}/participants", "post"): ("201", {400, 401, 404, 409, 422}),
    ("/campaigns/{campaign_id}/participants", "get"): ("200", {401, 404, 422}),
    ("/campaigns/{campaign_id}/participants/batch", "post"): (
        "200",
        {400, 401, 404, 409, 413, 422},
    ),
    ("/participants/{participant_id}", "get"): ("200", {401, 404}),
    ("/participants/{participant_id}/confirm", "post"): ("200", {401, 404, 409}),
    ("/participants/{participant_id}/rewards", "get"): ("200", {401, 404, 422}),
    ("/campaigns/{campaign_id}/events", "post"): ("201", {400, 401, 404, 409, 422}),
    ("/campaigns/{campaign_id}/spread", "get"): ("200", {401, 404, 422}),
    ("/customers/{customer_id}/export", "get"): ("200", {401, 404}),
    ("/customers/{customer_id}/erase", "post"): ("200", {401, 404, 409, 422}),
    ("/customers/{customer_id}/tags", "post"): ("200", {400, 401, 404, 409, 413, 422}),
    ("/journeys", "get"): ("200", {401, 422}),
    ("/journeys", "post"): ("201", {400, 401, 409, 413, 422}),
    ("/journeys/{journey_id}", "get"): ("200", {401, 404}),
    ("/journeys/{journey_id}", "patch"): ("200", {400, 401, 404, 409, 413, 422}),
    ("/journeys/{journey_id}/pause", "post"): ("200", {401, 404, 409, 422}),
    ("/journeys/{journey_id}/resume", "post"): ("200", {401, 404, 409, 422}),
    ("/journeys/{journey_id}/stats", "get"): ("200", {401, 404}),
    ("/outbox", "get"): ("200", {401, 422}),
    ("/outbox/{message_id}", "get"): ("200", {401, 404}),
    ("/outbox/{message_id}/retry", "post"): ("200", {401, 404, 409, 422}),
    ("/webhooks", "get"): ("200", {401, 422}),
    ("/webhooks", "post"): ("201", {400, 401, 413, 422}),
    ("/webhooks/{webhook_id}", "get"): ("200", {401, 404}),
    ("/webhooks/{webhook_id}", "patch"): ("200", {400, 401, 404, 409, 413, 422}),
    ("/webhooks/{webhook_id}", "delete"): ("204", {401, 404}),
    ("/webhooks/{webhook_id}/ping", "post"): ("202", {401, 404, 409, 422}),
    ("/integrations", "get"): ("200", {401, 422}),
    ("/integrations", "post"): ("201", {400, 401, 409, 413, 422}),
    ("/integrations/{integration_id}", "get"): ("200", {401, 404}),
    ("/integrations/{integration_id}", "patch"): ("200", {400, 401, 404, 409, 413, 422}),
    ("/integrations/{integration_id}", "delete"): ("204", {401, 404}),
    ("/customers/{customer_id}/tags/{tag}", "put"): ("200", {401, 404, 409, 422}),
    ("/customers/{customer_id}/tags/{tag}", "delete"): ("200", {401, 404, 409, 422}),
    ("/segments", "get"): ("200", {401, 422}),
    ("/segments", "post"): ("201", {400, 401, 413, 422}),
    ("/segments/{segment_id}", "get"): ("200", {401, 404}),
    ("/segments/{segment_id}", "patch"): ("200", {400, 401, 404, 409, 413, 422}),
    ("/segments/{segment_id}", "delete"): ("204", {401, 404}),
    ("/segments/{segment_id}/customers", "get"): ("200", {401, 404, 422}),
    ("/segments/{segment_id}/export", "get"): ("200", {401, 404}),
    ("/mail-texts", "get"): ("200", {401}),
    ("/mail-texts/{kind}/{locale}", "get"): ("200", {401, 404}),
    ("/mail-texts/{kind}/{locale}", "put"): ("200", {400, 401, 404, 413, 422}),
    ("/mail-texts/{kind}/{locale}", "delete"): ("204", {401, 404}),
    ("/campaigns/{campaign_id}/mail-texts", "get"): ("200", {401, 404}),
    ("/campaigns/{campaign_id}/mail-texts/{kind}/{locale}", "get"): ("200", {401, 404}),
    ("/campaigns/{campaign_id}/mail-texts/{kind}/{locale}", "put"): (
        "200",
        {400, 401, 404, 413, 422},
    ),
    ("/campaigns/{campaign_id}/mail-texts/{kind}/{locale}", "delete"): ("204", {401, 404}),
}


def test_the_openapi_document_describes_every_new_operation(openapi: dict[str, Any]) -> None:
    for (path, method), (success, errors) in NEW_OPERATIONS.items():
        operation = openapi["paths"][API + path][method]
        assert operation["summary"] and operation["operationId"], (path, method)
        assert operation["security"] == [{"BearerAuth": []}]
        assert success in operation["responses"]
        for code in errors | {429}:
            content = operation["responses"][str(code)]["content"]
            assert set(content) == {PROBLEM}, (path, method, code)
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_the_openapi_document_names_each_schema_once(openapi: dict[str, Any]) -> None:
    """A schema reached first through a page gets a second, numbered copy (``SegmentOut1``)
    when an operation registered later answers it directly: creating is registered first."""
    names = openapi["components"]["schemas"]
    assert [name for name in names if name[-1].isdigit()] == []
    assert {"SegmentOut", "SegmentPage", "SegmentCustomerOut"} <= set(names)


def test_every_post_documents_the_idempotency_key_and_409(openapi: dict[str, Any]) -> None:
    posts = [
        (path, op)
        for path, item in openapi["paths"].items()
        for m, op in item.items()
        if m == "post"
    ]
    assert len(posts) >= 7
    for path, operation in posts:
        names = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
        assert ("Idempotency-Key", "header") in names, path
        assert "409" in operation["responses"], path


def test_the_openapi_document_states_the_shapes_of_the_contract(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert {
        "id", "campaign_id", "email", "referral_code", "referral_url", "qr_png_url",
        "qr_svg_url", "referrer_id", "depth", "status", "referral_status", "created_at",
        "confirmed_at", "referrals_confirmed", "points",
    } <= set(schemas["ParticipantOut"]["required"])  # fmt: skip
    assert schemas["RuleIn"]["properties"]["level"]["maximum"] == 2  # this server's ceiling
    spread = openapi["paths"][f"{API}/campaigns/{{campaign_id}}/spread"]["get"]
    assert set(spread["responses"]["200"]["content"]) == {
        "application/json",
        "application/graphml+xml",
        "application/gexf+xml",
        "text/csv",
    }
    export = openapi["paths"][f"{API}/segments/{{segment_id}}/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv"}
    joined = openapi["paths"][f"{API}/campaigns/{{campaign_id}}/participants"]["post"]
    assert {"200", "201"} <= set(joined["responses"])


def test_the_openapi_document_is_still_valid(openapi: dict[str, Any]) -> None:
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    assert [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(openapi)] == []


# --- the browsable docs -------------------------------------------------------------------------


def test_the_docs_page_loads_swagger_ui_from_this_server_only(client: FlaskClient) -> None:
    response = client.get(f"{API}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    assert "/static/js/api-docs.js" in html
    assert "<script>" not in html and "https://" not in html  # no inline script, no CDN
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for name, mimetype in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ):
        asset = client.get(f"{API}/docs/vendor/{name}")
        assert asset.status_code == 200 and asset.mimetype == mimetype
        assert "immutable" in asset.headers["Cache-Control"]
        asset.close()


def test_only_the_listed_swagger_files_are_served(client: FlaskClient) -> None:
    for name in ("package.json", "index.html", "..%2Fpackage.json", "x.js"):
        assert client.get(f"{API}/docs/vendor/{name}").status_code == 404, name


def test_a_missing_swagger_install_says_how_to_install_it(
    app: Flask, client: FlaskClient, tmp_path: Any
) -> None:
    app.config["NODE_MODULES_DIR"] = str(tmp_path)
    response = client.get(f"{API}/docs/vendor/swagger-ui-bundle.js")
    assert_problem(response, 404)
    assert "npm ci" in response.get_json()["detail"]


# --- property-based: schemathesis -----------------------------------------------------------


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_on_the_engine_operations(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    """Generated requests, valid and invalid, against every new operation: never a 500, and
    every answer (problems included) conforms to the OpenAPI document."""
    _, secret = factory.api_key(factory.workspace())
    owner = Api(client, secret)
    campaign = owner.campaign()
    participant = owner.join(campaign["id"], "member@example.com")
    journey = owner.ok("POST", "/journeys", 201, json={"name": "Mine", "definition": JOURNEY})
    fixed = {
        "campaign_id": campaign["id"],
        "participant_id": participant["id"],
        "customer_id": participant["customer_id"],
        "journey_id": journey["id"],
        "webhook_id": owner.ok("POST", "/webhooks", 201, json=HOOK)["id"],
        "integration_id": owner.ok(
            "POST", "/integrations", 201, json={"provider": "stripe", "secret": "whsec_0123456"}
        )["id"],
        "kind": "confirmation",
        "locale": "de",
    }

    wanted = {(API + path, method) for path, method in NEW_OPERATIONS}
    checked = check_generated_requests(app, secret, wanted, fixed, max_examples=15)
    assert len(checked) == len(wanted)
