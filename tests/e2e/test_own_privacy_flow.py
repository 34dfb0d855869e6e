"""A customer's own privacy rights in a real browser: from the landing page they ask by
address for their data, open the link mailed to them (found in the outbox), download the
JSON, find the used link leading back to the privacy page, then ask for erasure, confirm it
with the mailed link's button, and their advocate page is gone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Customer, OutboxMessage
from referral.services import advocates
from referral.services.joining import JoinRequest, join_campaign
from tests.e2e.conftest import LiveServer, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e

MAILED_LINK = re.compile(r"https?://\S+?(/privacy/link/[A-Za-z0-9_-]+)")


def _mailed_link(kind: str) -> str:
    """The link of the latest privacy mail of ``kind`` (``export`` or ``erasure``)."""
    db.session.rollback()  # see the server thread's commits
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == f"privacy:{kind}")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no privacy:{kind} mail in the outbox"
    assert message.to_address == "greta@example.com"
    found = MAILED_LINK.search(message.body_text)
    assert found, message.body_text
    return found.group(1)


def _ask(page: Any, address: str, button: str) -> None:
    page.get_by_label("Your e-mail address").fill(address)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_test_id("privacy-sent")).to_contain_text(
        "If this address is known to Spring bikes, we have sent a link to it."
    )


def test_a_customer_downloads_their_data_then_erases_it(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, tmp_path: Path
) -> None:
    workspace = factory.workspace(name="Spring bikes")
    campaign = factory.campaign(workspace, status="live", name="Spring ride", slug="spring")
    greta = join_campaign(
        campaign,
        JoinRequest(
            email="greta@example.com",
            name="Greta Garbo",
            confirmed=True,
            consent_text="I agree to e-mails about Spring bikes.",
            consent_version="3",
        ),
    ).participation
    advocate_page = live_server(f"/me/{advocates.advocate_token(greta)}")

    # From the landing page's footer to the privacy page; an unknown address is answered
    # exactly like hers.
    page.goto(live_server("/c/spring"))
    page.get_by_test_id("privacy-link").click()
    expect(page.locator("h1")).to_have_text("Your data")
    privacy_page = page.url
    _ask(page, "nobody@example.com", "E-mail me a link to download my data")
    page.goto(privacy_page)
    _ask(page, "Greta@Example.com", "E-mail me a link to download my data")

    # The mailed link shows a button; the button downloads the JSON.
    export = live_server(_mailed_link("export"))
    page.goto(export)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download my data").click()
    download = downloading.value
    assert download.suggested_filename == "my-data.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = json.loads(saved.read_text())
    assert document["customer"]["email"] == "greta@example.com"
    assert document["customer"]["name"] == "Greta Garbo"
    assert document["consents"][0]["text"] == "I agree to e-mails about Spring bikes."

    # Used once, the link says so and leads on to the privacy page, her address filled in.
    used = page.goto(export)
    assert used is not None and used.status == 410
    expect(page.get_by_test_id("link-refused")).to_contain_text("used already")
    page.get_by_test_id("ask-again").click()
    expect(page.locator("h1")).to_have_text("Your data")
    expect(page.get_by_label("Your e-mail address")).to_have_value("greta@example.com")

    # Her advocate page links to the privacy page with her address filled in.
    page.goto(advocate_page)
    page.get_by_test_id("privacy-link").click()
    expect(page.get_by_label("Your e-mail address")).to_have_value("greta@example.com")
    page.get_by_role("button", name="E-mail me a link to erase my data").click()
    expect(page.get_by_test_id("privacy-sent")).to_be_visible()

    # Opening the erasure link changes nothing until she presses the button.
    erasure = live_server(_mailed_link("erasure"))
    page.goto(erasure)
    expect(page.locator(".lead")).to_contain_text("It cannot be undone.")
    db.session.rollback()
    customer = db.session.get(Customer, greta.customer_id)
    assert customer is not None and customer.erased_at is None
    page.get_by_role("button", name="Erase my data").click()
    expect(page.get_by_test_id("erased")).to_contain_text("Spring bikes no longer holds")
    db.session.rollback()
    customer = db.session.get(Customer, greta.customer_id)
    assert customer is not None and customer.erased_at is not None and customer.name == ""

    # Her page is gone, and the used link says so.
    gone = page.goto(advocate_page)
    assert gone is not None and gone.status == 404
    used = page.goto(erasure)
    assert used is not None and used.status == 410
    expect(page.get_by_test_id("link-refused")).to_contain_text("used already")
    # The 404 and 410 were asked for; Chromium logs each as an error.
    assert_clean([e for e in page_errors if not re.search(r"status of 4(04|10)", e)])
