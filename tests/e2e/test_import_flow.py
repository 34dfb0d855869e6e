"""A marketer brings their customers: from the participants page, a CSV file is uploaded,
its columns chosen, the first rows previewed, the file imported, and the report of every
row downloaded; a large file is imported by the worker while the page follows it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from referral import tasks
from referral.extensions import db
from referral.services import import_jobs
from tests.e2e.conftest import LiveServer, SignIn, assert_clean, page_width
from tests.factories import Factory

pytestmark = pytest.mark.e2e

FILE = (
    b"Customer;Mail;Language\n"
    b"Ann Lee;ann@example.com;de\n"
    b"Bob;bob at example.com;en\n"
    b"Carl;carl@example.net;nl\n"
)


def _to_mapping(page: Any, live_server: LiveServer, campaign_id: int) -> None:
    page.goto(live_server(f"/admin/campaigns/{campaign_id}/participants"))
    page.get_by_role("link", name="Import from a CSV file").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "customers.csv", "mimeType": "text/csv", "buffer": FILE}
    )
    page.get_by_role("button", name="Upload and choose the columns").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Waiting for its columns")


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_upload_map_preview_import_and_download_the_report(
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
    tmp_path: Path,
) -> None:
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(workspace, status="live", slug="bring", name="Bring them")
    sign_in(page, marketer.email)
    _to_mapping(page, live_server, campaign.id)

    # The e-mail column is guessed from "Mail"; "Customer" is not a name it knows.
    expect(page.get_by_label("E-mail address")).to_have_value("1")
    expect(page.get_by_label("Name", exact=True)).to_have_value("")
    page.get_by_label("Name", exact=True).select_option(label="Customer")
    page.get_by_role("button", name="Show the preview").click()
    preview = page.get_by_test_id("import-preview")
    expect(preview.locator("tbody tr")).to_have_count(3)
    expect(preview.locator("tbody tr").first).to_contain_text("Ann Lee")

    page.get_by_label("Why you may write to these people").fill("Customers of our shop")
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Done")
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    expect(page.get_by_test_id("import-errors")).to_have_text("1")

    with page.expect_download() as download:
        page.get_by_test_id("import-report").click()
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert lines[0] == ["Line", "E-mail address", "Result", "Field", "Message"]
    assert [line[2] for line in lines[1:]] == ["Added", "Not imported", "Added"]
    assert lines[2][1] == "bob at example.com" and lines[2][3] == "E-mail address"

    page.goto(live_server(f"/admin/campaigns/{campaign.id}/participants"))
    expect(page.get_by_test_id("participants")).to_contain_text("ann@example.com")
    assert_clean(page_errors)


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_a_large_file_shows_its_progress_until_the_worker_is_done(
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live_server.app.config["IMPORT_INLINE_ROWS"] = 1
    monkeypatch.setattr(tasks, "run_imports_task", lambda: None)  # the worker is run below
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(workspace, status="live", slug="large", name="Large")
    sign_in(page, marketer.email)
    _to_mapping(page, live_server, campaign.id)
    page.get_by_label("Why you may write to these people").fill("Customers of our shop")
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Waiting for the worker")
    expect(page.get_by_test_id("import-progress")).to_be_visible()

    db.session.rollback()  # see what the server committed
    assert import_jobs.run_queued() == 1  # what the worker does once woken
    # The page asks every second, and shows the result once the import is done.
    expect(page.get_by_test_id("import-status")).to_have_text("Done")
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    assert_clean(page_errors)


def test_the_import_pages_fit_a_phone(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, sign_in: SignIn
) -> None:
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(workspace, status="live", slug="phone", name="Phone")
    sign_in(page, marketer.email)
    _to_mapping(page, live_server, campaign.id)
    for name in ("mapping", "done"):
        width = page_width(page)
        assert width <= 390, f"the {name} page scrolls sideways ({width}px)"
        if name == "mapping":
            page.get_by_label("Why you may write to these people").fill("Customers of ours")
            page.get_by_role("button", name="Import 3 rows").click()
            expect(page.get_by_test_id("import-status")).to_have_text("Done")
    assert_clean(page_errors)
