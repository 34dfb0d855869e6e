"""Customers' privacy requests through the JSON API: export and erase, and the consent a
participant gives when a shop signs them up (docs/API.md, Conventions)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import (
    AuditEntry,
    ConsentRecord,
    Customer,
    LedgerEntry,
    Participation,
    Workspace,
)
from tests.conftest import Browser
from tests.factories import Factory
from tests.web.conftest import Api, assert_problem

SHOP_AGENT = "ShopBackend/3.1 (+https://shop.example) " + "s" * 300
TERMS = {"text": "I agree to hear from Brand about this offer.", "version": "shop-7"}


@pytest.fixture
def live(api: Api) -> dict[str, Any]:
    campaign = api.campaign()
    api.rule(campaign["id"], event="signup_confirmed", level=1, reward="points", amount=25)
    return campaign


def customer_of(participant: dict[str, Any]) -> int:
    db.session.commit()  # a fresh snapshot: see what the requests committed
    found = db.session.get(Participation, int(participant["id"]))
    assert found is not None
    return found.customer_id


def consent_rows(customer_id: int) -> list[ConsentRecord]:
    db.session.commit()
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.id)
        )
    )


def audited(action: str) -> list[tuple[str, str, str]]:
    db.session.commit()
    return [
        tuple(row)
        for row in db.session.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.actor)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
    ]


@pytest.fixture
def anna(api: Api, live: dict[str, Any]) -> dict[str, Any]:
    """Anna, signed up by the shop with her consent, and Ben, her friend."""
    body = {
        "email": "anna@example.com",
        "name": "Anna Bell",
        "confirmed": True,
        "consent": {**TERMS, "source": "https://shop.example/checkout"},
    }
    anna = api.ok(
        "POST",
        f"/campaigns/{live['id']}/participants",
        201,
        json=body,
        headers={"User-Agent": SHOP_AGENT},
    )
    api.join(live["id"], "ben@example.com", referral_code=anna["referral_code"], confirmed=True)
    return anna


# --- consent on joining ---------------------------------------------------------------------


def test_joining_with_a_consent_records_it_with_its_source_and_the_user_agent(
    api: Api, anna: dict[str, Any]
) -> None:
    rows = consent_rows(customer_of(anna))
    assert [(r.action, r.purpose, r.text, r.version) for r in rows] == [
        ("given", "campaign_terms", TERMS["text"], "shop-7")
    ]
    assert rows[0].page == "https://shop.example/checkout"
    assert rows[0].user_agent == SHOP_AGENT[:256]


def test_a_marketing_consent_is_recorded_as_such_and_defaults_its_source_to_api(
    api: Api, live: dict[str, Any]
) -> None:
    joined = api.join(live["id"], "mo@example.com", marketing=True, consent=TERMS)
    rows = consent_rows(customer_of(joined))
    assert [(r.purpose, r.page, r.action) for r in rows] == [("marketing", "api", "given")]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # Every bad consent the schema refuses: tests/unit/test_api_schemas.py.
        ({"marketing": True}, {"consent.text", "consent.version"}),
        ({"consent": "yes"}, {"consent"}),
    ],
)
def test_a_bad_consent_answers_422_naming_the_field_and_stores_nothing(
    api: Api, live: dict[str, Any], body: dict[str, Any], fields: set[str]
) -> None:
    response = api.post(
        f"/campaigns/{live['id']}/participants", json={"email": "x@example.com", **body}
    )
    problem = assert_problem(response, 422)
    assert fields <= set(problem["errors"]), problem
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_the_customer_page_shows_the_consent_given_through_the_api(
    browser: Browser, factory: Factory, workspace: Workspace, anna: dict[str, Any]
) -> None:
    marketer, _ = factory.marketer(role="viewer", workspace=workspace)
    assert browser.login(marketer.email).status_code == 302
    page = browser.client.get(f"/admin/customers/{customer_of(anna)}").get_data(as_text=True)
    history = page.split('data-testid="consent-history"', 1)[1].split("</div>", 1)[0]
    assert TERMS["text"] in history and "version shop-7" in history
    assert "https://shop.example/checkout" in history and "ShopBackend/3.1" in history


# --- export ---------------------------------------------------------------------------------


def test_the_export_is_the_customers_whole_document_and_is_audited(
    api: Api, anna: dict[str, Any]
) -> None:
    customer_id = customer_of(anna)
    response = api.get(f"/customers/{customer_id}/export")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["customer"] == {
        **body["customer"],
        "id": str(customer_id),
        "email": "anna@example.com",
        "name": "Anna Bell",
        "erased_at": None,
    }
    assert body["consents"][0]["text"] == TERMS["text"]
    assert body["consents"][0]["source"] == "https://shop.example/checkout"
    assert body["participations"][0]["id"] == anna["id"]
    assert sum(r["amount"] for r in body["rewards"]) == 25
    assert {"events", "messages", "survey_answers"} <= set(body)
    assert audited("customer.exported") == [
        ("customer.exported", f"customer:{customer_id}", f"api-key:{api_key_id()}")
    ]


def api_key_id() -> int:
    from referral.models import ApiKey

    db.session.commit()
    return db.session.scalar(select(func.max(ApiKey.id)))


def test_the_api_export_is_the_admins_document(
    api: Api, anna: dict[str, Any], browser: Browser, factory: Factory, workspace: Workspace
) -> None:
    customer_id = customer_of(anna)
    from_api = api.ok("GET", f"/customers/{customer_id}/export")
    marketer, _ = factory.marketer(role="owner", workspace=workspace)
    assert browser.login(marketer.email).status_code == 302
    download = browser.client.get(f"/admin/customers/{customer_id}/export.json")
    assert json.loads(download.get_data(as_text=True)) == from_api


# --- erasure --------------------------------------------------------------------------------


def _tree_and_ledger() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    db.session.commit()
    tree = db.session.execute(
        select(Participation.id, Participation.referrer_id, Participation.depth).order_by(
            Participation.id
        )
    ).all()
    ledger = db.session.execute(
        select(LedgerEntry.participation_id, LedgerEntry.amount, LedgerEntry.status).order_by(
            LedgerEntry.id
        )
    ).all()
    return [tuple(r) for r in tree], [tuple(r) for r in ledger]


def test_erasing_answers_200_keeps_the_tree_and_a_second_erasure_changes_nothing(
    api: Api, anna: dict[str, Any]
) -> None:
    customer_id = customer_of(anna)
    before = _tree_and_ledger()
    first = api.post(f"/customers/{customer_id}/erase")
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert body["id"] == str(customer_id) and body["erased"] is True and body["erased_at"]
    assert _tree_and_ledger() == before
    erased = db.session.get(Customer, customer_id)
    placeholder = erased.email
    assert erased.email_display == "" and erased.name == ""
    second = api.post(f"/customers/{customer_id}/erase")
    assert (second.status_code, second.get_json()) == (200, body)
    assert db.session.get(Customer, customer_id).email == placeholder
    assert audited("customer.erased") == [
        ("customer.erased", f"customer:{customer_id}", f"api-key:{api_key_id()}")
    ]
    # The participant still answers, without the address.
    participant = api.ok("GET", f"/participants/{anna['id']}")
    assert participant["email"] == "" and participant["referral_code"] == anna["referral_code"]


def test_an_erasure_replayed_with_its_idempotency_key_answers_the_first_answer(
    api: Api, anna: dict[str, Any]
) -> None:
    customer_id = customer_of(anna)
    first = api.post(f"/customers/{customer_id}/erase", key="erase-anna")
    replay = api.post(f"/customers/{customer_id}/erase", key="erase-anna")
    assert (replay.status_code, replay.get_json()) == (200, first.get_json())
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert len(audited("customer.erased")) == 1


@pytest.mark.parametrize("suffix", ["export", "erase"])
def test_another_workspaces_or_an_unknown_customer_answers_404(
    api: Api, factory: Factory, anna: dict[str, Any], suffix: str
) -> None:
    """Can workspace B export or erase customer 1 of workspace A? No: 404, and nothing."""
    customer_id = customer_of(anna)
    _, secret = factory.api_key(factory.workspace())
    other = Api(api.client, secret)
    method = "GET" if suffix == "export" else "POST"
    for ident in (str(customer_id), "999999", "0", "01", "abc", "99999999999"):
        assert_problem(other.call(method, f"/customers/{ident}/{suffix}"), 404)
    assert db.session.get(Customer, customer_id).erased_at is None
    assert audited("customer.exported") == audited("customer.erased") == []


@pytest.mark.parametrize(("method", "suffix"), [("GET", "export"), ("POST", "erase")])
def test_without_a_key_the_answer_is_401(
    client: FlaskClient, anna: dict[str, Any], method: str, suffix: str
) -> None:
    response = client.open(f"/api/v1/customers/{customer_of(anna)}/{suffix}", method=method)
    assert_problem(response, 401)


def test_the_openapi_document_describes_both_operations(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    export = spec["paths"]["/api/v1/customers/{customer_id}/export"]["get"]
    erase = spec["paths"]["/api/v1/customers/{customer_id}/erase"]["post"]
    assert export["operationId"] == "exportCustomer" and erase["operationId"] == "eraseCustomer"
    for operation, statuses in (
        (export, {"200", "401", "404", "429"}),
        (erase, {"200", "401", "404", "409", "422", "429"}),
    ):
        assert statuses <= set(operation["responses"]), operation["responses"].keys()
        assert operation["tags"] == ["API"] and operation["summary"]
    assert any(p["name"] == "Idempotency-Key" for p in erase["parameters"])
    participant_in = spec["components"]["schemas"]["ParticipantIn"]["properties"]
    assert participant_in["marketing"]["type"] == "boolean"
    assert "consent" in participant_in
