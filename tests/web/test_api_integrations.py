"""/api/v1/integrations: a shop's system sets up, reads, changes and removes its payment
providers' receivers; the secret is never answered."""

from __future__ import annotations

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, InboundHook
from tests.web.conftest import Api, assert_problem, count

STRIPE = {"provider": "stripe", "secret": "whsec_api_secret_abcd"}


def test_a_receiver_is_set_up_once_per_provider_and_never_answers_its_secret(api: Api) -> None:
    response = api.post("/integrations", json=STRIPE)
    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/integrations/{made['id']}")
    assert made["provider"] == "stripe" and made["secret_hint"] == "…abcd"
    hook = db.session.get(InboundHook, int(made["id"]))
    assert hook is not None and made["receiver_url"].endswith(f"/hooks/stripe/{hook.key}")
    assert made["campaign_id"] is None and "secret" not in made
    assert api.ok("GET", f"/integrations/{made['id']}") == made
    assert api.ok("GET", "/integrations")["items"] == [made]
    refused = assert_problem(api.post("/integrations", json=STRIPE), 409)
    assert "Stripe is set up already" in refused["detail"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "integration.create"))
    assert entry is not None and entry.actor.startswith("api-key:")
    assert STRIPE["secret"] not in str(entry.data)


def test_bad_fields_answer_422_naming_each(api: Api, other_api: Api) -> None:
    bad = assert_problem(api.post("/integrations", json={"provider": "paypal", "secret": "x"}), 422)
    assert {"provider", "secret"} <= set(bad["errors"])
    spaced = assert_problem(
        api.post("/integrations", json={**STRIPE, "secret": "a b c d e f"}), 422
    )
    assert list(spaced["errors"]) == ["secret"]
    theirs = other_api.campaign()
    foreign = assert_problem(
        api.post("/integrations", json={**STRIPE, "campaign_id": theirs["id"]}), 422
    )
    assert list(foreign["errors"]) == ["campaign_id"]
    assert count(InboundHook) == 0


def test_a_change_rolls_the_secret_over_and_ties_a_campaign(api: Api) -> None:
    made = api.ok("POST", "/integrations", 201, json={**STRIPE, "provider": "shopify"})
    campaign = api.campaign()
    path = f"/integrations/{made['id']}"
    changed = api.ok("PATCH", path, json={"secret": "shpss_rolled_9876"})
    assert changed["secret_hint"] == "…9876" and changed["receiver_url"] == made["receiver_url"]
    tied = api.ok("PATCH", path, json={"campaign_id": campaign["id"]})
    assert tied["campaign_id"] == campaign["id"] and tied["secret_hint"] == "…9876"
    assert api.ok("PATCH", path, json={"campaign_id": None})["campaign_id"] is None


def test_a_removed_receiver_is_gone_and_its_address_404(api: Api, other_api: Api) -> None:
    made = api.ok("POST", "/integrations", 201, json=STRIPE)
    path = f"/integrations/{made['id']}"
    for call in (
        other_api.get(path),
        other_api.patch(path, json={"secret": "whsec_takeover_1"}),
        other_api.call("DELETE", path),
    ):
        assert_problem(call, 404)
    assert api.call("DELETE", path).status_code == 204
    assert_problem(api.get(path), 404)
    address = made["receiver_url"][made["receiver_url"].index("/hooks/") :]
    assert api.client.post(address, data=b"{}").status_code == 404
