"""The customer list in /admin filtered by query parameters, saved segments, the CSV export
and a customer's tags: what a marketer sees and may do, and that another workspace's people
never appear."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Customer, Segment
from referral.models.journey import CustomerTag
from tests.conftest import Browser
from tests.factories import Factory


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(browser: Browser, path: str, data: dict[str, Any]) -> Any:
    token = browser.token("/admin/customers")
    return browser.client.post(path, data={"csrf_token": token, **data})


def people(factory: Factory, workspace: Any) -> tuple[Customer, Customer]:
    campaign = factory.campaign(workspace, status="live")
    ann = factory.participation(campaign, status="confirmed", channel="qr")
    bob = factory.participation(campaign, ann, status="pending")
    return db.session.get(Customer, ann.customer_id), db.session.get(Customer, bob.customer_id)


def test_the_list_filters_by_query_parameters_and_shows_tags(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    _, workspace = login_as("viewer")
    ann, bob = people(factory, workspace)
    stranger = factory.participation(factory.campaign(), channel="qr")
    db.session.add(CustomerTag(workspace_id=workspace.id, customer_id=ann.id, tag="vip"))
    db.session.commit()
    page = text_of(browser.client.get("/admin/customers?channel=qr"))
    assert ann.email in page and bob.email not in page and "vip" in page
    other = db.session.get(Customer, stranger.customer_id)
    assert other is not None and other.email not in page
    assert bob.email in text_of(browser.client.get("/admin/customers?generation=1&status=pending"))
    assert "1 customer" in text_of(browser.client.get("/admin/customers?tag=VIP"))


def test_a_bad_filter_is_named_on_the_form_with_422(browser: Browser, login_as: Any) -> None:
    login_as("viewer")
    response = browser.client.get("/admin/customers?points_min=lots&active_after=yesterday")
    assert response.status_code == 422
    page = text_of(response)
    assert "Use a whole number from 0 to 1000000000 for points_min." in page
    assert "Write active_after as a date, such as 2026-12-31." in page


def test_an_editor_saves_changes_and_deletes_a_segment(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    _, workspace = login_as("editor")
    ann, _bob = people(factory, workspace)
    response = post(browser, "/admin/customers/segments", {"name": "QR fans", "channel": "qr"})
    saved = db.session.scalars(select(Segment)).one()
    assert response.headers["Location"].endswith(f"/admin/customers?segment={saved.id}")
    assert saved.filters == {"channel": "qr"}
    page = text_of(browser.client.get(f"/admin/customers?segment={saved.id}"))
    assert "Segment: QR fans" in page and ann.email in page and "1 customer" in page
    post(browser, f"/admin/customers/segments/{saved.id}", {"name": "Pending", "status": "pending"})
    db.session.commit()
    assert (saved.name, saved.filters) == ("Pending", {"status": "pending"})
    taken = post(browser, "/admin/customers/segments", {"name": "Pending"})
    assert "A segment of this name exists already" in text_of(
        browser.client.get(taken.headers["Location"])
    )
    post(browser, f"/admin/customers/segments/{saved.id}/delete", {})
    db.session.commit()
    assert db.session.scalars(select(Segment)).all() == []


def test_a_viewer_cannot_save_and_another_workspace_segment_is_404(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    login_as("viewer")
    theirs = Segment(workspace_id=factory.workspace().id, name="Theirs", filters={})
    db.session.add(theirs)
    db.session.commit()
    assert post(browser, "/admin/customers/segments", {"name": "x"}).status_code == 403
    assert browser.client.get(f"/admin/customers?segment={theirs.id}").status_code == 404
    export = browser.client.get(f"/admin/customers/segments/{theirs.id}/export.csv")
    assert export.status_code == 404


def test_the_export_writes_the_filter_as_neutralised_csv_and_is_audited(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    marketer, workspace = login_as("viewer")
    ann, _bob = people(factory, workspace)
    ann.name = "@SUM(A1)"
    db.session.commit()
    response = browser.client.get("/admin/customers/export.csv?channel=qr")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"], r["name"]) for r in rows] == [(ann.email, "'@SUM(A1)")]
    db.session.commit()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.customers")
    ).one()
    assert (entry.marketer_id, entry.data) == (marketer.id, {"filters": {"channel": "qr"}})


def test_an_editor_adds_and_removes_a_tag_on_the_customer_page(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    _, workspace = login_as("editor")
    ann, _bob = people(factory, workspace)
    post(browser, f"/admin/customers/{ann.id}/tags", {"tag": " Early Bird "})
    page = text_of(browser.client.get(f"/admin/customers/{ann.id}"))
    assert "Tag “early bird” added." in page and 'value="early bird"' in page
    refused = post(browser, f"/admin/customers/{ann.id}/tags", {"tag": "=cmd"})
    assert "Write a tag with 1 to 64" in text_of(browser.client.get(refused.headers["Location"]))
    post(browser, f"/admin/customers/{ann.id}/tags/remove", {"tag": "early bird"})
    db.session.commit()
    assert db.session.scalars(select(CustomerTag.tag)).all() == []
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("customer.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["customer.tagged", "customer.untagged"]
