"""A customer's privacy in /admin: their data as a download, erasure after a confirmation,
the withdrawal of marketing consent, and the consent history on their page."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    ConsentRecord,
    Customer,
    Marketer,
    Participation,
    Workspace,
)
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.conftest import Browser
from tests.factories import Factory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) PrivacyTest/1.0 " + "z" * 300
CONSENT = "I agree that Brand may e-mail me about Spring bikes."


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def fresh(model: Any, ident: int) -> Any:
    db.session.commit()  # a new snapshot: see what the requests committed
    return db.session.get(model, ident)


def audit_rows(*actions: str) -> list[tuple[Any, ...]]:
    db.session.commit()
    return [
        tuple(row)
        for row in db.session.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.marketer_id, AuditEntry.data)
            .where(AuditEntry.action.in_(actions))
            .order_by(AuditEntry.id)
        )
    ]


def post(browser: Browser, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    token = browser.token("/admin/customers")
    return browser.client.post(path, data={"csrf_token": token, **(data or {})}, **kw)


@pytest.fixture
def team(factory: Factory) -> tuple[Workspace, Campaign]:
    workspace = factory.workspace(name="Brand")
    return workspace, factory.campaign(workspace, status="live", name="Spring bikes")


@pytest.fixture
def ada(team: tuple[Workspace, Campaign]) -> Participation:
    """An advocate who consented on the landing page, with a friend she brought."""
    _, campaign = team
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 40})
    person = join_campaign(
        campaign,
        JoinRequest(
            email="Ada.Lovelace@example.com",
            name="Ada Lovelace",
            confirmed=True,
            consent_text=CONSENT,
            consent_version="2024-05",
        ),
        Visitor(ip="203.0.113.9", user_agent=BROWSER, page="https://brand.example/c/spring"),
    ).participation
    join_campaign(
        campaign,
        JoinRequest(email="friend@example.com", referral_code=person.referral_code, confirmed=True),
    )
    return person


def sign_in(browser: Browser, factory: Factory, workspace: Workspace, role: str) -> Marketer:
    marketer, _ = factory.marketer(role=role, workspace=workspace)
    assert browser.login(marketer.email).status_code == 302
    return marketer


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
def test_a_marketer_downloads_a_customers_data_as_an_uncached_json_attachment(
    browser: Browser, factory: Factory, team: Any, ada: Participation, role: str
) -> None:
    marketer = sign_in(browser, factory, team[0], role)
    page = text_of(browser.client.get(f"/admin/customers/{ada.customer_id}"))
    assert f'href="/admin/customers/{ada.customer_id}/export.json"' in page
    response = browser.client.get(f"/admin/customers/{ada.customer_id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="customer-{ada.customer_id}.json"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    document = json.loads(response.get_data(as_text=True))
    assert document["customer"]["email"] == "ada.lovelace@example.com"
    assert document["customer"]["name"] == "Ada Lovelace"
    assert document["consents"][0]["text"] == CONSENT
    assert document["consents"][0]["user_agent"] == BROWSER[:256]
    assert document["participations"][0]["referral_code"] == ada.referral_code
    assert sum(r["amount"] for r in document["rewards"]) == 40
    rows = audit_rows("customer.exported")
    assert rows == [
        ("customer.exported", f"customer:{ada.customer_id}", marketer.id, {"erased": False})
    ]
    assert "ada" not in str(rows).lower()


# --- erasure --------------------------------------------------------------------------------


def test_erasing_without_ticking_the_confirmation_box_answers_422_and_changes_nothing(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    sign_in(browser, factory, team[0], "editor")
    response = post(browser, f"/admin/customers/{ada.customer_id}/erase")
    assert response.status_code == 422
    assert "Tick the box to confirm the erasure." in text_of(response)
    customer = fresh(Customer, ada.customer_id)
    assert customer.erased_at is None and customer.name == "Ada Lovelace"
    assert audit_rows("customer.erased") == []


def test_erasing_without_a_csrf_token_changes_nothing(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    sign_in(browser, factory, team[0], "owner")
    response = browser.client.post(
        f"/admin/customers/{ada.customer_id}/erase", data={"understood": "y"}
    )
    assert response.status_code in (400, 422)
    assert fresh(Customer, ada.customer_id).erased_at is None
    assert audit_rows("customer.erased") == []


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_an_editor_erases_a_customer_after_confirming_and_the_tree_stays(
    browser: Browser, factory: Factory, team: Any, ada: Participation, role: str
) -> None:
    marketer = sign_in(browser, factory, team[0], role)
    friend = db.session.scalar(select(Participation).where(Participation.referrer_id == ada.id))
    response = post(browser, f"/admin/customers/{ada.customer_id}/erase", {"understood": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/customers/{ada.customer_id}")
    page = text_of(browser.client.get(f"/admin/customers/{ada.customer_id}"))
    assert "The customer's personal data is erased." in page
    assert "(erased)" in page and "Personal data erased" in page
    assert "Ada" not in page and BROWSER[:40] not in page
    assert 'data-testid="erase-form"' not in page
    customer = fresh(Customer, ada.customer_id)
    assert customer.erased_at is not None and customer.email_display == ""
    assert fresh(Participation, friend.id).referrer_id == ada.id
    assert audit_rows("customer.erased") == [
        ("customer.erased", f"customer:{ada.customer_id}", marketer.id, {})
    ]
    # The friend's page still names their referrer, as erased.
    friend_page = text_of(browser.client.get(f"/admin/customers/{friend.customer_id}"))
    assert "(erased)" in friend_page


def test_erasing_an_erased_customer_again_changes_and_records_nothing(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    sign_in(browser, factory, team[0], "owner")
    post(browser, f"/admin/customers/{ada.customer_id}/erase", {"understood": "y"})
    placeholder = fresh(Customer, ada.customer_id).email
    response = post(browser, f"/admin/customers/{ada.customer_id}/erase", {"understood": "y"})
    assert response.status_code == 302
    page = text_of(browser.client.get(f"/admin/customers/{ada.customer_id}"))
    assert "This customer was already erased." in page
    assert fresh(Customer, ada.customer_id).email == placeholder
    assert len(audit_rows("customer.erased")) == 1


# --- roles and workspaces -------------------------------------------------------------------


def test_a_viewer_gets_403_for_erasure_and_withdrawal_and_sees_neither_form(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    sign_in(browser, factory, team[0], "viewer")
    page = text_of(browser.client.get(f"/admin/customers/{ada.customer_id}"))
    assert 'data-testid="erase-form"' not in page and 'data-testid="withdrawal-form"' not in page
    assert "Record withdrawal of marketing consent" not in page
    erase = post(browser, f"/admin/customers/{ada.customer_id}/erase", {"understood": "y"})
    withdraw = post(
        browser, f"/admin/customers/{ada.customer_id}/withdraw-marketing", {"source": "phone"}
    )
    assert (erase.status_code, withdraw.status_code) == (403, 403)
    assert fresh(Customer, ada.customer_id).erased_at is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 1
    assert audit_rows("customer.erased", "consent.withdrawn") == []


def test_a_marketer_of_another_workspace_gets_404_and_changes_nothing(
    browser: Browser, factory: Factory, ada: Participation
) -> None:
    """Can an owner of workspace B export, erase or record a withdrawal for customer 1 of
    workspace A? No: 404, and nothing is recorded."""
    sign_in(browser, factory, factory.workspace(), "owner")
    base = f"/admin/customers/{ada.customer_id}"
    assert browser.client.get(f"{base}/export.json").status_code == 404
    assert post(browser, f"{base}/erase", {"understood": "y"}).status_code == 404
    assert post(browser, f"{base}/withdraw-marketing", {"source": "phone"}).status_code == 404
    assert fresh(Customer, ada.customer_id).erased_at is None
    assert audit_rows("customer.exported", "customer.erased", "consent.withdrawn") == []


# --- consent history and withdrawal ---------------------------------------------------------


def test_the_customer_page_shows_the_consent_history_with_source_and_browser(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    sign_in(browser, factory, team[0], "viewer")
    page = text_of(browser.client.get(f"/admin/customers/{ada.customer_id}"))
    history = page.split('data-testid="consent-history"', 1)[1].split("</div>", 1)[0]
    assert CONSENT in history and "version 2024-05" in history
    assert "Given" in history and "given " in history
    assert "https://brand.example/c/spring" in history
    assert f">{BROWSER[:57]}...</span>" in history  # shortened; the whole one on hover


def test_an_editor_records_a_withdrawal_of_marketing_consent_told_by_phone(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    marketer = sign_in(browser, factory, team[0], "editor")
    agent = "MarketerBrowser/2.0 " + "m" * 400
    response = post(
        browser,
        f"/admin/customers/{ada.customer_id}/withdraw-marketing",
        {"source": "phone"},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 302
    db.session.commit()
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == ada.customer_id)
        .order_by(ConsentRecord.id)
    ).all()
    assert [(r.action, r.purpose) for r in rows] == [
        ("given", "campaign_terms"),
        ("withdrawn", "marketing"),
    ]
    assert (rows[1].page, rows[1].user_agent) == ("phone", agent[:256])
    assert rows[0].withdrawn_at is None  # the given row is never rewritten
    assert audit_rows("consent.withdrawn") == [
        (
            "consent.withdrawn",
            f"customer:{ada.customer_id}",
            marketer.id,
            {"purpose": "marketing", "source": "phone"},
        )
    ]
    page = text_of(browser.client.get(f"/admin/customers/{ada.customer_id}"))
    assert "The withdrawal of marketing consent is recorded." in page
    history = page.split('data-testid="consent-history"', 1)[1].split("</div>", 1)[0]
    assert "Withdrawn" in history and "By phone" in history and "MarketerBrowser/2.0" in history
    assert "Marketing consent withdrawn" in page
    again = post(
        browser, f"/admin/customers/{ada.customer_id}/withdraw-marketing", {"source": "mail"}
    )
    assert again.status_code == 302
    assert "Marketing consent was already withdrawn." in text_of(
        browser.client.get(f"/admin/customers/{ada.customer_id}")
    )
    assert len(audit_rows("consent.withdrawn")) == 1


def test_a_withdrawal_with_an_unknown_source_answers_422_and_records_nothing(
    browser: Browser, factory: Factory, team: Any, ada: Participation
) -> None:
    sign_in(browser, factory, team[0], "owner")
    response = post(
        browser, f"/admin/customers/{ada.customer_id}/withdraw-marketing", {"source": "telepathy"}
    )
    assert response.status_code == 422
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 1
    assert audit_rows("consent.withdrawn") == []


def test_the_landing_page_stores_the_browsers_user_agent_with_the_consent(
    app: Flask, client: Any, team: Any
) -> None:
    """A person joins on the landing page: their consent row keeps the User-Agent (clipped)."""
    _, campaign = team
    app.config["JOIN_MIN_SECONDS"] = 0
    page = client.get(f"/c/{campaign.slug}")
    body = page.get_data(as_text=True)
    token = body.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    started = body.split('name="started" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        f"/c/{campaign.slug}",
        data={"csrf_token": token, "started": started, "email": "lee@example.com", "consent": "y"},
        headers={"User-Agent": BROWSER},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    db.session.commit()
    row = db.session.scalar(select(ConsentRecord))
    assert row.user_agent == BROWSER[:256] and row.action == "given"
