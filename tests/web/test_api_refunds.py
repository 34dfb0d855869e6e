"""POST /campaigns/{id}/events with kind ``refund``: a refund naming its purchase makes void
what the purchase paid, as a payment provider's refund does (docs/API.md)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Event, LedgerEntry, Workspace
from referral.models.webhooks import WebhookDelivery
from referral.services import webhooks
from tests.web.conftest import Api, assert_problem, count, race


@pytest.fixture
def shop(api: Api, workspace: Workspace) -> dict[str, Any]:
    """A live campaign paying the buyer 10 and their referrer 100 points per purchase, with
    two purchases by the buyer (``order-1`` and ``order-2``) and a subscriber to
    ``reward.voided``."""
    live = api.campaign(reward_depth=1)
    api.rule(live["id"], event="purchase", level=0, reward="points", amount=10)
    api.rule(live["id"], event="purchase", level=1, reward="points", amount=100)
    advocate = api.join(live["id"], "ada@example.com", confirmed=True)
    buyer = api.join(
        live["id"], "anna@example.com", confirmed=True, referral_code=advocate["referral_code"]
    )
    webhooks.create_endpoint(workspace, "https://shop.example.com/in", ["reward.voided"])
    path = f"/campaigns/{live['id']}/events"
    for order in ("order-1", "order-2"):
        purchase = {"participant_id": buyer["id"], "kind": "purchase", "external_id": order}
        api.ok("POST", path, 201, json=purchase)
    return {"campaign": live, "advocate": advocate, "buyer": buyer, "path": path}


def refund(shop: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"participant_id": shop["buyer"]["id"], "kind": "refund", **fields}


def lines() -> list[tuple[str, str, str]]:
    """(the purchase's external id, status, reason) of every ledger line."""
    db.session.rollback()
    rows = db.session.execute(
        select(Event.external_id, LedgerEntry.status, LedgerEntry.reason)
        .join(Event, Event.id == LedgerEntry.source_event_id)
        .order_by(LedgerEntry.id)
    )
    return [(str(ext), status, reason) for ext, status, reason in rows]


def test_a_refund_naming_its_purchase_voids_what_that_purchase_paid_and_says_so(
    api: Api, shop: dict[str, Any]
) -> None:
    body = refund(shop, purchase_external_id="order-1", external_id="refund-1", amount=2500)
    answer = api.ok("POST", shop["path"], 201, json=body)
    assert answer["event"]["kind"] == "refund" and answer["rewards"] == []
    voided = {(line["participant_id"], line["status"], line["reason"]) for line in answer["voided"]}
    assert voided == {
        (shop["buyer"]["id"], "void", "refund"),
        (shop["advocate"]["id"], "void", "refund"),
    }
    assert sorted(lines()) == sorted(
        [("order-1", "void", "refund")] * 2 + [("order-2", "approved", "")] * 2
    )
    keys = db.session.scalars(select(WebhookDelivery.event_key)).all()
    assert sorted(keys) == sorted(f"reward.voided:{line['id']}" for line in answer["voided"])
    (audit,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.refund"))
    assert audit.actor.startswith("api-key:")
    assert audit.data["refund_event_id"] == int(answer["event"]["id"])
    assert api.ok("GET", f"/participants/{shop['advocate']['id']}")["points"] == 100


def test_the_same_refund_twice_and_a_second_refund_of_the_purchase_void_once(
    api: Api, shop: dict[str, Any]
) -> None:
    body = refund(shop, purchase_external_id="order-1", external_id="refund-1")
    first = api.ok("POST", shop["path"], 201, json=body)
    again = api.ok("POST", shop["path"], 200, json=body)
    assert again["event"] == first["event"] and again["voided"] == []
    other = api.ok("POST", shop["path"], 201, json={**body, "external_id": "refund-2"})
    assert other["voided"] == []
    unnamed = api.ok("POST", shop["path"], 201, json=refund(shop, purchase_external_id="order-1"))
    assert unnamed["voided"] == []
    assert count(Event, Event.kind == "refund") == 3
    assert count(WebhookDelivery) == 2
    assert count(AuditEntry, AuditEntry.action == "ledger.refund") == 1
    assert [status for ext, status, _ in lines() if ext == "order-1"] == ["void", "void"]


def test_a_refund_of_an_unknown_purchase_answers_422_and_records_nothing(
    api: Api, shop: dict[str, Any]
) -> None:
    other = api.join(shop["campaign"]["id"], "otto@example.com", confirmed=True)
    for body in (
        refund(shop, purchase_external_id="order-never"),
        # a purchase of somebody else is not this participant's to refund
        {**refund(shop, purchase_external_id="order-1"), "participant_id": other["id"]},
    ):
        problem = assert_problem(api.post(shop["path"], json=body), 422)
        assert set(problem["errors"]) == {"purchase_external_id"}
    assert count(Event, Event.kind == "refund") == 0
    assert {status for _, status, _ in lines()} == {"approved"}


def test_a_purchase_in_another_campaign_is_not_found(api: Api, shop: dict[str, Any]) -> None:
    elsewhere = api.campaign()
    buyer = api.join(elsewhere["id"], "anna@example.com", confirmed=True)
    body = {"participant_id": buyer["id"], "kind": "refund", "purchase_external_id": "order-1"}
    problem = assert_problem(api.post(f"/campaigns/{elsewhere['id']}/events", json=body), 422)
    assert set(problem["errors"]) == {"purchase_external_id"}
    assert {status for _, status, _ in lines()} == {"approved"}


def test_only_a_refund_names_a_purchase(api: Api, shop: dict[str, Any]) -> None:
    body = {
        "participant_id": shop["buyer"]["id"],
        "kind": "purchase",
        "purchase_external_id": "order-1",
    }
    problem = assert_problem(api.post(shop["path"], json=body), 422)
    assert set(problem["errors"]) == {"purchase_external_id"}


def test_a_refund_without_a_purchase_is_recorded_and_voids_nothing(
    api: Api, shop: dict[str, Any]
) -> None:
    answer = api.ok("POST", shop["path"], 201, json=refund(shop, external_id="r-9"))
    assert answer["voided"] == [] and answer["event"]["kind"] == "refund"
    assert {status for _, status, _ in lines()} == {"approved"}


def test_concurrent_refunds_of_one_purchase_void_its_rewards_once(
    app: Flask, api: Api, shop: dict[str, Any]
) -> None:
    turn = iter(range(6))

    def send() -> int:
        body = refund(shop, purchase_external_id="order-1", external_id=f"r-{next(turn)}")
        response = api.post(shop["path"], json=body)
        return len(response.get_json()["voided"])

    results, errors = race(app, 6, send)
    assert errors == []
    assert sorted(results) == [0] * 5 + [2]
    assert count(WebhookDelivery) == 2
    assert count(AuditEntry, AuditEntry.action == "ledger.refund") == 1
