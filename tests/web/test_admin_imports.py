"""Importing a CSV file of people from the campaign's participants page: upload, the
columns guessed and chosen, the first rows previewed, the import (in the request for a
small file, in the worker for a large one, with its progress), and the report."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from referral import tasks
from referral.extensions import db
from referral.models import AuditEntry, Campaign, ConsentRecord, ParticipantImport, Participation
from referral.models.base import utcnow
from referral.services import import_jobs, imports
from tests.conftest import Browser
from tests.factories import Factory
from tests.web.conftest import count

BASIS = "Customers who bought from us (existing contract)"
FILE = (
    b"E-Mail;Vorname;Sprache;Geburtstag\n"
    b"ann@example.com;Ann;de;14.03.1985\n"
    b"not an address;Bob;en;\n"
    b"carl@example.net;Carl;xx;\n"
    b"dora@example.org;Dora;nl;--07-01\n"
)


@pytest.fixture
def campaign(login_as: Any, factory: Factory) -> Campaign:
    _, workspace = login_as("editor")
    return factory.campaign(workspace, status="live", slug="bring")


def upload(
    browser: Browser, campaign: Campaign, data: bytes = FILE, name: str = "people.csv"
) -> Any:
    page = f"/admin/campaigns/{campaign.id}/imports"
    token = browser.token(page)
    return browser.client.post(
        page,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def job_url(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def start(browser: Browser, url: str, action: str = "import", **fields: Any) -> Any:
    data = {
        "email": "0",
        "name": "1",
        "locale": "2",
        "referral_code": "",
        "birthday": "3",
        "basis": BASIS,
        "action": action,
        **fields,
    }
    return browser.post(url, data, url)


def test_the_participants_page_offers_the_import(browser: Browser, campaign: Campaign) -> None:
    page = browser.client.get(f"/admin/campaigns/{campaign.id}/participants").get_data(as_text=True)
    assert f"/admin/campaigns/{campaign.id}/imports" in page


def test_an_upload_guesses_the_columns_and_previews_the_first_rows(
    browser: Browser, campaign: Campaign
) -> None:
    url = job_url(upload(browser, campaign))
    page = browser.client.get(url).get_data(as_text=True)
    assert re.search(r'<option selected value="0">E-Mail</option>', page)
    assert re.search(r'<option selected value="2">Sprache</option>', page)
    assert "4 rows in the file" in page
    preview = page[page.index('data-testid="import-preview"') :]
    assert "ann@example.com" in preview and "03-14" in preview
    assert "Language: Use one of the languages" in preview  # Carl's "xx"
    assert count(Participation) == 0


def test_the_preview_follows_the_chosen_columns_and_imports_nothing(
    browser: Browser, campaign: Campaign
) -> None:
    url = job_url(upload(browser, campaign))
    response = start(browser, url, action="preview", name="", locale="")
    assert response.status_code == 200
    preview = response.get_data(as_text=True).split('data-testid="import-preview"')[1]
    assert "Ann" not in preview and "Language:" not in preview
    assert count(Participation) == 0


def test_a_small_file_is_imported_at_once_and_its_report_says_why_rows_were_left_out(
    browser: Browser, campaign: Campaign
) -> None:
    url = job_url(upload(browser, campaign))
    response = start(browser, url)
    assert response.status_code == 302
    page = browser.client.get(url).get_data(as_text=True)
    assert 'data-testid="import-created">2<' in page
    assert 'data-testid="import-errors">2<' in page
    assert count(Participation) == 2
    consents = db.session.scalars(select(ConsentRecord)).all()
    assert {(c.purpose, c.text, c.page) for c in consents} == {("imported", BASIS, "import:csv")}
    report = browser.client.get(f"{url}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.get_data(as_text=True))))
    assert lines[0] == ["Line", "E-mail address", "Result", "Field", "Message"]
    by_line = {line[0]: line for line in lines[1:]}
    assert by_line["2"][2] == "Added"
    assert by_line["3"][2:4] == ["Not imported", "E-mail address"]
    assert by_line["4"][2:4] == ["Not imported", "Language"]
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"participants.imported", "participants.import_report"} <= actions
    job = db.session.scalars(select(ParticipantImport)).one()
    assert job.data is None  # the file is not kept once imported


def test_the_same_file_again_adds_nobody(browser: Browser, campaign: Campaign) -> None:
    start(browser, job_url(upload(browser, campaign)))
    again = job_url(upload(browser, campaign))
    assert start(browser, again).status_code == 302
    page = browser.client.get(again).get_data(as_text=True)
    assert 'data-testid="import-created">0<' in page
    assert 'data-testid="import-existing">2<' in page
    assert count(Participation) == 2


def test_an_import_cannot_be_started_twice(browser: Browser, campaign: Campaign) -> None:
    url = job_url(upload(browser, campaign))
    start(browser, url)
    response = start(browser, url)
    assert response.status_code == 302
    assert "This import is started already." in browser.client.get(url).get_data(as_text=True)
    assert count(Participation) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "Choose the column that holds the e-mail address."),
        ({"name": "0"}, "Map each column to one field at most."),
        ({"basis": "  "}, "Say why you may write to these people"),
    ],
)
def test_a_mapping_or_basis_that_cannot_be_used_is_shown_on_the_form(
    browser: Browser, campaign: Campaign, fields: dict[str, str], message: str
) -> None:
    url = job_url(upload(browser, campaign))
    response = start(browser, url, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Participation) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        ("email\nbj\xf6rn@example.com\n".encode("latin-1"), "Save the file as UTF-8 text (CSV)."),
        (b"email\n", "The file needs a header line and one row."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_reason(
    browser: Browser, campaign: Campaign, data: bytes, message: str
) -> None:
    response = upload(browser, campaign, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(ParticipantImport) == 0


def test_a_closed_campaign_imports_nobody(browser: Browser, campaign: Campaign) -> None:
    url = job_url(upload(browser, campaign))
    campaign.status = "closed"
    db.session.commit()
    response = start(browser, url)
    assert response.status_code == 409
    assert "This campaign is not open for sign-ups." in response.get_data(as_text=True)
    assert count(Participation) == 0


def test_a_large_file_is_only_queued_and_the_worker_imports_it_with_its_progress(
    app: Flask, browser: Browser, campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["IMPORT_INLINE_ROWS"] = 2
    woken: list[bool] = []
    monkeypatch.setattr(tasks, "run_imports_task", lambda: woken.append(True))
    seen: dict[str, int] = {}
    told: list[int] = []

    def put(key: str, done: int) -> None:
        told.append(done)
        seen[key] = done

    monkeypatch.setattr(import_jobs, "_store", [(put, seen.get, lambda key: seen.pop(key))])
    monkeypatch.setattr(imports, "CHUNK", 1)
    url = job_url(upload(browser, campaign))
    assert start(browser, url).status_code == 302
    assert woken == [True]
    assert count(Participation) == 0
    state = browser.client.get(f"{url}/progress").get_json()
    assert (state["status"], state["done"], state["rows"]) == ("queued", 0, 4)
    page = browser.client.get(url).get_data(as_text=True)
    assert 'data-testid="import-progress"' in page and "js/import-progress.js" in page
    assert import_jobs.run_queued() == 1
    assert told == sorted(told) and told[-1] == 4  # told after each chunk: the last said all four
    assert seen == {}  # and let go once the import was over
    db.session.rollback()
    state = browser.client.get(f"{url}/progress").get_json()
    assert (state["status"], state["done"], state["counts"]["created"]) == ("done", 4, 2)
    assert count(Participation) == 2
    assert import_jobs.run_queued() == 0


def test_a_failed_import_leaves_nothing_and_can_be_started_again(
    app: Flask, browser: Browser, campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["IMPORT_INLINE_ROWS"] = 2
    monkeypatch.setattr(tasks, "run_imports_task", lambda: None)
    monkeypatch.setattr(imports, "CHUNK", 1)
    url = job_url(upload(browser, campaign))
    start(browser, url)
    real = imports._enter_all
    calls = [0]

    def enter_then_fail(batch: Any, entered: Any) -> None:
        real(batch, entered)
        calls[0] += 1
        if calls[0] == 2:  # the first person is written, the second fails
            raise RuntimeError("the database went away")

    monkeypatch.setattr(imports, "_enter_all", enter_then_fail)
    assert import_jobs.run_queued() == 1
    db.session.rollback()
    job = db.session.scalars(select(ParticipantImport)).one()
    assert job.status == "failed" and job.error == "RuntimeError"
    assert count(Participation) == 0 and count(ConsentRecord) == 0
    page = browser.client.get(url).get_data(as_text=True)
    assert "The import failed and nothing was imported." in page
    monkeypatch.setattr(imports, "_enter_all", real)
    start(browser, url)
    assert import_jobs.run_queued() == 1
    assert count(Participation) == 2


def test_a_viewer_sees_the_imports_but_cannot_upload(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live")
    page = browser.client.get(f"/admin/campaigns/{campaign.id}/imports")
    assert page.status_code == 200
    assert "Only owners and editors can import people." in page.get_data(as_text=True)
    assert upload(browser, campaign).status_code == 403
    job = import_jobs.upload_file(campaign, "theirs.csv", FILE)
    db.session.commit()
    shown = browser.client.get(f"/admin/campaigns/{campaign.id}/imports/{job.id}")
    assert 'data-testid="import-preview"' in shown.get_data(as_text=True)
    assert 'name="action"' not in shown.get_data(as_text=True)


def test_without_a_worker_cron_runs_the_queued_imports_and_takes_a_dead_workers_again(
    app: Flask, browser: Browser, campaign: Campaign, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["IMPORT_INLINE_ROWS"] = 0
    monkeypatch.setattr(tasks, "run_imports_task", lambda: None)
    first = job_url(upload(browser, campaign))
    start(browser, first)
    second = job_url(upload(browser, campaign))
    start(browser, second)
    db.session.rollback()
    dead = db.session.scalars(select(ParticipantImport).order_by(ParticipantImport.id)).first()
    assert dead is not None
    dead.status, dead.started_at = "running", utcnow() - timedelta(minutes=5)
    db.session.commit()
    result = runner.invoke(args=["run-imports"])
    assert result.exit_code == 0, result.output
    assert "1 import(s) run" in result.output  # the running one is within its lease
    dead.started_at = utcnow() - import_jobs.LEASE - timedelta(minutes=1)
    db.session.commit()
    assert "1 import(s) run" in runner.invoke(args=["run-imports"]).output
    db.session.rollback()
    statuses = db.session.scalars(select(ParticipantImport.status)).all()
    assert statuses == ["done", "done"]
    assert count(Participation) == 2
    periodic = [type(task) for task in tasks.huey._registry.periodic_tasks]
    assert tasks.run_imports_periodically.task_class in periodic
