"""A privacy request in a real browser: a marketer opens a customer, downloads their data,
and erases them after confirming."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_a_marketer_exports_a_customer_and_erases_them_after_confirming(
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
    tmp_path: Path,
) -> None:
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(workspace, status="live", name="Spring bikes")
    join_campaign(
        campaign,
        JoinRequest(
            email="greta@example.com",
            name="Greta Garbo",
            confirmed=True,
            consent_text="I agree to e-mails about Spring bikes.",
            consent_version="3",
        ),
        Visitor(user_agent="GretaPhone/1.0", page="https://brand.example/c/spring"),
    )
    sign_in(page, marketer.email)

    # The customer, found from the customers list.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="greta@example.com").click()
    page.wait_for_url(re.compile(r"/admin/customers/\d+$"))
    customer_url = page.url
    expect(page.locator("h1")).to_have_text("greta@example.com")
    history = page.get_by_test_id("consent-history")
    expect(history).to_contain_text("I agree to e-mails about Spring bikes.")
    expect(history).to_contain_text("GretaPhone/1.0")

    # Export: a JSON file with everything about her.
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Export data (JSON)").click()
    download = downloading.value
    assert re.fullmatch(r"customer-\d+\.json", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["customer"]["email"] == "greta@example.com"
    assert document["customer"]["name"] == "Greta Garbo"

    # Erase: the button does nothing until the box is ticked.
    erase = page.get_by_role("button", name="Erase personal data")
    expect(page.get_by_label("I understand this cannot be undone")).to_have_attribute(
        "required", ""
    )
    erase.click()
    assert page.url == customer_url
    expect(page.locator("h1")).to_have_text("greta@example.com")
    page.get_by_label("I understand this cannot be undone").check()
    erase.click()
    page.wait_for_url(customer_url)
    expect(page.locator(".flash-success")).to_have_text("The customer's personal data is erased.")
    expect(page.locator("h1")).to_have_text("(erased)")
    expect(page.locator("main")).not_to_contain_text("Greta")
    expect(page.get_by_test_id("timeline")).to_contain_text("Personal data erased")
    expect(page.get_by_role("button", name="Erase personal data")).to_have_count(0)

    # A second export holds nothing personal.
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Export data (JSON)").click()
    again = tmp_path / "again.json"
    downloading.value.save_as(again)
    text = again.read_text(encoding="utf-8")
    assert "greta" not in text.lower() and "GretaPhone" not in text
    assert json.loads(text)["customer"]["erased_at"]

    assert_clean(page_errors)
