"""Payment providers on the Webhooks page: an owner sets up Stripe or Shopify with its
signing secret, sees its address and only a hint of the secret, changes and removes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, InboundHook
from referral.services import inbound_hooks
from tests.conftest import Browser
from tests.factories import Factory
from tests.web.conftest import count, text_of

PAGE = "/admin/webhooks"
SECRET = "whsec_from_the_stripe_dashboard_42"


def save(browser: Browser, provider: str, **fields: str) -> Any:
    token = browser.token(PAGE)
    fields.setdefault("campaign_id", "")
    data = {f"{provider}-csrf_token": token, **{f"{provider}-{k}": v for k, v in fields.items()}}
    return browser.client.post(f"{PAGE}/providers/{provider}", data=data)


def test_an_owner_sets_up_stripe_and_sees_its_address_and_a_hint_of_the_secret(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    marketer, workspace = login_as("owner")
    campaign = factory.campaign(workspace, status="live")
    response = save(browser, "stripe", secret=SECRET, campaign_id=str(campaign.id))
    assert response.status_code == 302
    hook = db.session.scalar(select(InboundHook))
    assert hook is not None and (hook.provider, hook.secret, hook.campaign_id) == (
        "stripe",
        SECRET,
        campaign.id,
    )
    page = text_of(browser.client.get(PAGE))
    assert f"/hooks/stripe/{hook.key}" in page
    assert inbound_hooks.secret_hint(hook) == "…d_42" and "…d_42" in page
    assert SECRET not in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "integration.create"))
    assert entry is not None and entry.marketer_id == marketer.id and SECRET not in str(entry.data)


def test_an_empty_secret_keeps_the_one_set_and_a_new_one_replaces_it(
    browser: Browser, login_as: Any
) -> None:
    login_as("owner")
    save(browser, "shopify", secret="shpss_first_secret")
    assert save(browser, "shopify", secret="", campaign_id="").status_code == 302
    db.session.expire_all()
    hook = db.session.scalar(select(InboundHook))
    assert hook is not None and hook.secret == "shpss_first_secret"
    save(browser, "shopify", secret="shpss_second_secret")
    db.session.expire_all()
    assert db.session.get(InboundHook, hook.id).secret == "shpss_second_secret"


def test_a_bad_secret_or_campaign_re_renders_the_page_with_the_reason(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    login_as("owner")
    response = save(browser, "stripe", secret="short")
    assert response.status_code == 422
    assert "Paste the signing secret" in text_of(response)
    elsewhere = factory.campaign(factory.workspace())
    response = save(browser, "stripe", secret=SECRET, campaign_id=str(elsewhere.id))
    assert response.status_code == 422
    assert count(InboundHook) == 0
    assert save(browser, "paypal", secret=SECRET).status_code == 404


def test_removing_a_provider_makes_its_address_404(
    browser: Browser, login_as: Any, client: Any
) -> None:
    login_as("owner")
    save(browser, "stripe", secret=SECRET)
    hook = db.session.scalar(select(InboundHook))
    assert hook is not None
    address = f"/hooks/stripe/{hook.key}"
    assert browser.post(f"{PAGE}/providers/stripe/delete", {}, form_page=PAGE).status_code == 302
    assert count(InboundHook) == 0
    assert client.post(address, data=b"{}").status_code == 404


def test_editors_and_viewers_see_the_providers_but_cannot_change_them(
    browser: Browser, login_as: Any
) -> None:
    login_as("editor")
    page = text_of(browser.client.get(PAGE))
    assert "Payment providers" in page and "Set up Stripe" not in page
    assert save(browser, "stripe", secret=SECRET).status_code == 403
    assert count(InboundHook) == 0
