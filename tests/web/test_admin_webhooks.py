"""The webhooks page: an owner registers an address, sees its secret once, pauses, deletes,
and delivers; others read."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookEndpoint
from tests.conftest import Browser

SECRET_RE = re.compile(r'data-testid="webhook-secret">([^<]+)</code>')
PAGE = "/admin/webhooks"


def add(browser: Browser, url: str, events: list[str]) -> Any:
    return browser.post(PAGE, {"url": url, "events": events}, form_page=PAGE)


def test_an_owner_adds_a_webhook_and_sees_its_secret_once(browser: Browser, login_as: Any) -> None:
    _, workspace = login_as("owner")
    response = add(browser, "https://shop.example.com/hook", ["reward.granted"])
    assert response.status_code == 201
    (secret,) = SECRET_RE.findall(response.get_data(as_text=True))
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint is not None and endpoint.workspace_id == workspace.id
    assert (endpoint.url, endpoint.events, endpoint.secret) == (
        "https://shop.example.com/hook",
        ["reward.granted"],
        secret,
    )
    again = browser.client.get(PAGE).get_data(as_text=True)
    assert "https://shop.example.com/hook" in again and secret not in again
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "webhook.create" in actions


def test_every_event_of_the_catalogue_can_be_chosen_on_the_page(
    browser: Browser, login_as: Any
) -> None:
    """The journey step and consent withdrawal events too: the page offers the whole
    catalogue, and a new endpoint is ticked for all but the many journey steps."""
    login_as("owner")
    page = browser.client.get(PAGE).get_data(as_text=True)
    for name in WEBHOOK_EVENTS:
        assert f'value="{name}"' in page, name
    response = add(browser, "https://crm.example.com/hook", ["journey.step", "consent.withdrawn"])
    assert response.status_code == 201
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint is not None and endpoint.events == ["journey.step", "consent.withdrawn"]


def test_a_bad_address_re_renders_the_form_with_the_reason_and_stores_nothing(
    browser: Browser, login_as: Any
) -> None:
    login_as("owner")
    response = add(browser, "ftp://example.com/x", [])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a full web address starting with https:// (or http://)." in html
    assert "Choose one or more of:" in html
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_an_owner_pauses_resumes_and_deletes_a_webhook(browser: Browser, login_as: Any) -> None:
    login_as("owner")
    add(browser, "https://shop.example.com/hook", ["reward.granted"])
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint is not None
    browser.post(f"{PAGE}/{endpoint.id}/toggle", form_page=PAGE)
    db.session.refresh(endpoint)
    assert endpoint.active is False
    assert "Paused" in browser.client.get(PAGE).get_data(as_text=True)
    browser.post(f"{PAGE}/{endpoint.id}/toggle", form_page=PAGE)
    db.session.refresh(endpoint)
    assert endpoint.active is True
    response = browser.post(f"{PAGE}/{endpoint.id}/delete", form_page=PAGE)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_an_editor_reads_the_page_but_cannot_add(browser: Browser, login_as: Any) -> None:
    login_as("editor")
    page = browser.client.get(PAGE)
    assert page.status_code == 200
    assert "Only workspace owners can add or change webhooks." in page.get_data(as_text=True)
    assert add(browser, "https://shop.example.com/hook", ["reward.granted"]).status_code == 403
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_the_page_speaks_german(browser: Browser, login_as: Any) -> None:
    login_as("owner")
    html = browser.client.get(f"{PAGE}?lang=de").get_data(as_text=True)
    assert "Webhook hinzufügen" in html
