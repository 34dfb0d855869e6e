"""Segments and tags in a real browser: a marketer filters the customer list, saves the
filter as a segment, exports it as CSV (formulas neutralised) and tags a customer, whose tag
then filters the list."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.extensions import db
from referral.models import Customer
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


def _person(factory: Factory, campaign: Any, **fields: Any) -> Customer:
    customer = db.session.get(Customer, factory.participation(campaign, **fields).customer_id)
    assert customer is not None
    return customer


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_a_marketer_filters_saves_a_segment_exports_it_and_tags_a_customer(
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
    tmp_path: Path,
) -> None:
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(workspace, status="live", name="Spring bikes")
    ann = _person(factory, campaign, status="confirmed", channel="qr")
    ann.name = '=HYPERLINK("http://evil.example")'
    bob = _person(factory, campaign, status="pending", channel="qr")
    cem = _person(factory, campaign, status="confirmed", channel="email")
    db.session.commit()
    sign_in(page, marketer.email)

    # Filter: confirmed sign-ups through a QR code.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Customers").click()
    page.wait_for_url(live_server("/admin/customers"))
    filters = page.get_by_test_id("customer-filters")
    filters.get_by_label("Channel").fill("qr")
    filters.get_by_label("Status").select_option("confirmed")
    filters.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("customer-count")).to_have_text("1 customer")
    listed = page.get_by_test_id("customers")
    expect(listed).to_contain_text(ann.email_display)
    expect(listed).not_to_contain_text(bob.email_display)
    expect(listed).not_to_contain_text(cem.email_display)

    # Saved as a segment, which the list then shows open.
    saving = page.get_by_test_id("segment-new")
    saving.get_by_label("Segment name").fill("QR regulars")
    saving.get_by_role("button", name="Save as a new segment").click()
    expect(page.locator(".flash-success")).to_have_text("Segment “QR regulars” saved.")
    expect(page.get_by_test_id("open-segment")).to_have_text("Segment: QR regulars")
    expect(page.get_by_test_id("segments")).to_contain_text("QR regulars")
    expect(page.get_by_test_id("customer-count")).to_have_text("1 customer")

    # Its export: Ann alone, her name a text the spreadsheet does not run.
    with page.expect_download() as downloading:
        page.get_by_test_id("customers-export").click()
    download = downloading.value
    assert re.fullmatch(r"segment-\d+\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["email"], r["name"]) for r in rows] == [
        (ann.email_display, '\'=HYPERLINK("http://evil.example")')
    ]

    # A tag on Cem, from his page; the tag's link lists everyone who carries it.
    page.get_by_role("link", name="Clear").click()
    page.get_by_role("link", name=cem.email_display).click()
    page.wait_for_url(re.compile(r"/admin/customers/\d+$"))
    tagging = page.get_by_test_id("tag-form")
    tagging.get_by_label("Tag").fill("  Bike Club ")
    tagging.get_by_role("button", name="Add tag").click()
    expect(page.locator(".flash-success")).to_have_text("Tag “bike club” added.")
    page.get_by_test_id("tag-list").get_by_role("link", name="bike club").click()
    expect(page.get_by_test_id("customer-count")).to_have_text("1 customer")
    expect(page.get_by_test_id("customers")).to_contain_text(cem.email_display)
    expect(page.get_by_test_id("customer-filters").get_by_label("Tag")).to_have_value("bike club")
    assert_clean(page_errors)
