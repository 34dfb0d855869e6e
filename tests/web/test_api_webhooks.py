"""/api/v1/webhooks: a shop's system registers, reads, changes, pings and deletes the
workspace's webhook endpoints, as an owner does on the Webhooks page."""

from __future__ import annotations

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Campaign
from referral.models.webhooks import WebhookDelivery, WebhookEndpoint
from referral.services import webhook_delivery
from referral.services.webhook_delivery import Response
from tests.web.conftest import Api, assert_problem, count

HOOK = {"url": "https://shop.example.com/hooks/referral", "events": ["reward.granted"]}


def _actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_new_endpoint_answers_its_secret_once_and_never_again(api: Api) -> None:
    response = api.post("/webhooks", json=HOOK)
    assert response.status_code == 201
    made = response.get_json()
    assert made["secret"].startswith("whsec_") and made["active"] is True
    assert response.headers["Location"].endswith(f"/api/v1/webhooks/{made['id']}")
    read = api.ok("GET", f"/webhooks/{made['id']}")
    listed = api.ok("GET", "/webhooks")["items"]
    assert "secret" not in read and all("secret" not in item for item in listed)
    assert read == {k: v for k, v in made.items() if k != "secret"}
    stored = db.session.get(WebhookEndpoint, int(made["id"]))
    assert stored is not None and stored.secret == made["secret"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.create"))
    assert entry is not None and entry.actor.startswith("api-key:")
    assert made["secret"] not in str(entry.data)


def test_the_list_pages_in_id_order_and_only_the_workspaces_own(api: Api, other_api: Api) -> None:
    ids = [api.ok("POST", "/webhooks", 201, json=HOOK)["id"] for _ in range(3)]
    other_api.ok("POST", "/webhooks", 201, json=HOOK)
    first = api.ok("GET", "/webhooks?limit=2")
    assert [item["id"] for item in first["items"]] == ids[:2] and first["next_cursor"]
    rest = api.ok("GET", f"/webhooks?limit=2&cursor={first['next_cursor']}")
    assert [item["id"] for item in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    assert "cursor" in assert_problem(api.get("/webhooks?cursor=bm9wZQ"), 422)["errors"]


def test_bad_fields_answer_422_naming_each_and_store_nothing(api: Api) -> None:
    bad = assert_problem(api.post("/webhooks", json={"url": "", "events": []}), 422)
    assert {"url", "events"} <= set(bad["errors"])
    bad = assert_problem(api.post("/webhooks", json={**HOOK, "url": "ftp://x"}), 422)
    assert list(bad["errors"]) == ["url"]
    secret_in_url = {"url": "https://me:pw@shop.example.com/h", "events": ["reward.granted"]}
    bad = assert_problem(api.post("/webhooks", json=secret_in_url), 422)
    assert list(bad["errors"]) == ["url"]
    unknown = assert_problem(api.post("/webhooks", json={**HOOK, "events": ["nope"]}), 422)
    assert list(unknown["errors"]) == ["events.0"]
    assert_problem(api.post("/webhooks", json={**HOOK, "active": "yes"}), 422)
    assert_problem(api.post("/webhooks", json={**HOOK, "secret": "mine"}), 422)
    assert count(WebhookEndpoint) == 0


def test_a_change_keeps_the_secret_and_what_was_not_given_and_is_audited(api: Api) -> None:
    made = api.ok("POST", "/webhooks", 201, json=HOOK)
    changed = api.ok(
        "PATCH", f"/webhooks/{made['id']}", json={"events": ["reward.voided", "reward.held"]}
    )
    assert changed["url"] == HOOK["url"] and changed["events"] == ["reward.voided", "reward.held"]
    refused = api.patch(f"/webhooks/{made['id']}", json={"url": "no", "active": False})
    assert list(assert_problem(refused, 422)["errors"]) == ["url"]
    db.session.rollback()
    stored = db.session.get(WebhookEndpoint, int(made["id"]))
    assert stored is not None and stored.active and stored.secret == made["secret"]
    assert _actions().count("webhook.update") == 1


def test_pausing_stops_the_campaigns_queueing_the_endpoints_events(api: Api) -> None:
    campaign = api.campaign()
    made = api.ok("POST", "/webhooks", 201, json={**HOOK, "events": ["participant.joined"]})
    db.session.rollback()
    assert db.session.get(Campaign, int(campaign["id"])).webhook_events == ["participant.joined"]
    api.ok("PATCH", f"/webhooks/{made['id']}", json={"active": False})
    db.session.rollback()
    assert db.session.get(Campaign, int(campaign["id"])).webhook_events == []
    api.join(campaign["id"], "ada@example.com")
    assert count(WebhookDelivery) == 0


def test_a_ping_is_queued_for_that_endpoint_alone_and_delivered_signed(api: Api) -> None:
    made = api.ok("POST", "/webhooks", 201, json={**HOOK, "active": False})
    api.ok("POST", "/webhooks", 201, json=HOOK)
    queued = api.ok("POST", f"/webhooks/{made['id']}/ping", 202)
    assert (queued["event"], queued["status"], queued["webhook_id"]) == (
        "ping",
        "pending",
        made["id"],
    )
    sent: list[tuple[str, bytes, dict[str, str]]] = []

    def poster(url: str, body: bytes, headers: dict[str, str]) -> Response:
        sent.append((url, body, headers))
        return Response(204)

    webhook_delivery.deliver_due(post=poster)
    ((url, body, headers),) = sent
    assert url == HOOK["url"] and headers["Referral-Event"] == "ping"
    assert b'"webhook_id":"%s"' % made["id"].encode() in body
    assert "webhook.ping" in _actions()


def test_a_deleted_endpoint_is_gone_with_its_deliveries_and_a_second_delete_is_404(
    api: Api,
) -> None:
    made = api.ok("POST", "/webhooks", 201, json=HOOK)
    api.ok("POST", f"/webhooks/{made['id']}/ping", 202)
    response = api.call("DELETE", f"/webhooks/{made['id']}")
    assert response.status_code == 204 and response.data == b""
    assert_problem(api.get(f"/webhooks/{made['id']}"), 404)
    assert_problem(api.call("DELETE", f"/webhooks/{made['id']}"), 404)
    assert (count(WebhookEndpoint), count(WebhookDelivery)) == (0, 0)
    assert _actions()[-1] == "webhook.delete"


def test_another_workspaces_endpoint_is_404_for_everything(api: Api, other_api: Api) -> None:
    made = api.ok("POST", "/webhooks", 201, json=HOOK)
    path = f"/webhooks/{made['id']}"
    assert_problem(other_api.get(path), 404)
    assert_problem(other_api.patch(path, json={"active": False}), 404)
    assert_problem(other_api.post(f"{path}/ping"), 404)
    assert_problem(other_api.call("DELETE", path), 404)
    assert_problem(other_api.get("/webhooks/x1"), 404)
    assert other_api.ok("GET", "/webhooks")["items"] == []
    assert api.ok("GET", path)["active"] is True
    assert count(WebhookDelivery) == 0
