"""The browsable API documentation in a real browser: Swagger UI, served by this server
under its strict CSP, lists the API's operations; no console error, no CSP report."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, assert_clean

pytestmark = pytest.mark.e2e

OPERATIONS = [
    ("POST", "/api/v1/campaigns"),
    ("POST", "/api/v1/campaigns/{campaign_id}/reward-rules"),
    ("POST", "/api/v1/campaigns/{campaign_id}/participants"),
    ("GET", "/api/v1/participants/{participant_id}"),
    ("POST", "/api/v1/participants/{participant_id}/confirm"),
    ("POST", "/api/v1/campaigns/{campaign_id}/events"),
    ("GET", "/api/v1/participants/{participant_id}/rewards"),
    ("GET", "/api/v1/campaigns/{campaign_id}/spread"),
]


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_docs_page_renders_swagger_ui_listing_the_endpoints(
    live_server: LiveServer, page: Any, page_errors: list[str]
) -> None:
    page.goto(live_server("/api/v1/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("referral API")
    for method, path in OPERATIONS:
        block = page.locator(f".opblock-{method.lower()}").filter(
            has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
        )
        expect(block.first).to_be_visible()
    # An operation opens to show its parameters, the Idempotency-Key among them.
    events = page.locator(
        '.opblock-summary-path[data-path="/api/v1/campaigns/{campaign_id}/events"]'
    )
    events.first.click()
    expect(page.get_by_text("Idempotency-Key").first).to_be_visible()
    expect(page.locator(".scheme-container .authorize")).to_be_visible()
    assert_clean(page_errors)
