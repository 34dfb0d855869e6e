"""The customer's own privacy page: reached from every mail, the advocate page and the
landing page; asking mails a link through the outbox and answers the same whether or not
the address is known; the form is rate-limited per client and per address; the mailed
link changes nothing when opened, and its button (a POST with its CSRF token) downloads
the JSON or erases; a used, expired or unknown link answers a clear page."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Customer,
    OutboxMessage,
    Participation,
    PrivacyRequest,
    Workspace,
)
from referral.models.base import utcnow
from referral.services import advocates, privacy_requests, subscriptions
from referral.services.joining import JoinRequest, join_campaign
from tests.conftest import csrf_from
from tests.factories import Factory
from tests.web.conftest import join_through_form

PAGE_LINK = re.compile(r"http://localhost(/privacy/[A-Za-z0-9_.-]+)")
MAILED_LINK = re.compile(r"http://localhost(/privacy/link/[A-Za-z0-9_-]+)")
SENT = "If this address is known to"


def _join(factory: Factory, email: str = "ada@example.com") -> Participation:
    campaign = factory.campaign(status="live")
    return join_campaign(
        campaign,
        JoinRequest(
            email=email,
            name="Ada Lovelace",
            consent_text="I agree to the rules",
            consent_version="1",
        ),
    ).participation


def _page(participation: Participation) -> str:
    customer = db.session.get(Customer, participation.customer_id)
    assert customer is not None
    token = privacy_requests.page_token(customer.workspace_id, customer.id)
    return f"/privacy/{token}"


def _privacy_mails() -> list[OutboxMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind.like("privacy:%"))
            .order_by(OutboxMessage.id)
        )
    )


def _ask(client: FlaskClient, path: str, email: str, kind: str, **kw: Any) -> Any:
    """Open the privacy page and ask for a link of ``kind`` to ``email``, as a person would."""
    token = csrf_from(client.get(path, **kw).get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "kind": kind}
    return client.post(path, data=data, **kw)


def _erased_at(participation: Participation) -> Any:
    db.session.rollback()
    customer = db.session.get(Customer, participation.customer_id)
    assert customer is not None
    return customer.erased_at


def _mailed_link(client: FlaskClient, participation: Participation, kind: str) -> str:
    answer = _ask(client, _page(participation), "ada@example.com", kind)
    assert answer.status_code == 200
    found = MAILED_LINK.search(_privacy_mails()[-1].body_text)
    assert found is not None
    return found.group(1)


# --- reaching the page --------------------------------------------------------------------


def test_the_confirmation_mail_links_to_the_privacy_page_with_the_address_filled_in(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = factory.campaign(status="live")
    assert join_through_form(client, campaign, "ada@example.com").status_code == 303
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "confirmation")
    ).one()
    assert "Download or erase your data" in mail.body_text
    found = PAGE_LINK.search(mail.body_text)
    assert found is not None and found.group(1) in mail.body_html
    shown = client.get(found.group(1))
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert 'value="ada@example.com"' in shown.get_data(as_text=True)


def test_the_advocate_and_landing_pages_link_to_the_privacy_page(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    mine = client.get(f"/me/{advocates.advocate_token(participation)}").get_data(as_text=True)
    assert f'href="{_page(participation)}" data-testid="privacy-link"' in mine
    campaign = participation.campaign
    landing = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    found = re.search(r'href="(/privacy/[^"]+)" data-testid="privacy-link"', landing)
    assert found is not None
    page = client.get(found.group(1)).get_data(as_text=True)
    assert 'name="email"' in page and "ada@example.com" not in page


def test_a_forged_page_or_link_answers_404_with_a_page(client: FlaskClient) -> None:
    for path in ("/privacy/not-a-token", "/privacy/link/not-a-token"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "This link is not valid." in answer.get_data(as_text=True)


# --- asking -------------------------------------------------------------------------------


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_one_gets_mail(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    path = _page(participation)
    known = _ask(client, path, "Ada@Example.com", "export")
    unknown = _ask(client, path, "nobody@example.com", "export")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert SENT in known.get_data(as_text=True)
    [mail] = _privacy_mails()
    assert (mail.kind, mail.to_address, mail.status) == (
        "privacy:export",
        "ada@example.com",
        "queued",
    )
    assert MAILED_LINK.search(mail.body_text) and MAILED_LINK.search(mail.body_html)
    assert "Download my data" in mail.body_html


def test_a_post_without_its_csrf_token_mails_nothing(client: FlaskClient, factory: Factory) -> None:
    participation = _join(factory)
    data = {"email": "ada@example.com", "kind": "erasure"}
    answer = client.post(_page(participation), data=data)
    assert answer.status_code == 400
    assert _privacy_mails() == []


@pytest.mark.parametrize(
    ("email", "kind", "message"),
    [
        ("not-an-address", "export", "This does not look like an e-mail address."),
        ("", "export", "Enter an e-mail address."),
        ("ada@example.com", "delete", "Choose what you would like us to do."),
    ],
)
def test_bad_input_re_renders_the_form_with_422(
    client: FlaskClient, factory: Factory, email: str, kind: str, message: str
) -> None:
    participation = _join(factory)
    answer = _ask(client, _page(participation), email, kind)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert page.count(message) == 1 and 'name="email"' in page
    assert _privacy_mails() == []


def test_the_form_is_limited_per_client_whatever_the_address(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    app.config["PRIVACY_RATE_LIMIT"] = "2 per minute"
    path = _page(_join(factory))
    answers = [
        _ask(client, path, address, "export").status_code
        for address in ("a@example.com", "b@example.com", "ada@example.com")
    ]
    assert answers == [200, 200, 429]
    assert _privacy_mails() == []
    other = {"environ_base": {"REMOTE_ADDR": "198.51.100.9"}}
    assert _ask(client, path, "ada@example.com", "export", **other).status_code == 200
    assert len(_privacy_mails()) == 1


def test_the_form_is_limited_per_address_from_any_client_known_or_not(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    app.config["PRIVACY_ADDRESS_RATE_LIMIT"] = "1 per hour"
    path = _page(_join(factory))
    for address in ("ada@example.com", "nobody@example.com"):
        first = {"environ_base": {"REMOTE_ADDR": "198.51.100.1"}}
        second = {"environ_base": {"REMOTE_ADDR": "198.51.100.2"}}
        assert _ask(client, path, address, "erasure", **first).status_code == 200
        # the same address written otherwise is the same address
        again = _ask(client, path, address.upper(), "erasure", **second)
        assert again.status_code == 429
        assert "Retry-After" in again.headers
    assert len(_privacy_mails()) == 1


# --- the mailed link ----------------------------------------------------------------------


def test_opening_an_erasure_link_changes_nothing_and_its_button_erases(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    advocate_page = f"/me/{advocates.advocate_token(participation)}"
    link = _mailed_link(client, participation, "erasure")
    shown = client.get(link)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "private, no-store"
    page = shown.get_data(as_text=True)
    assert "It cannot be undone." in page and 'data-testid="erase"' in page
    db.session.rollback()
    assert _erased_at(participation) is None
    assert db.session.scalars(select(PrivacyRequest)).one().used_at is None
    # the button without its form token does nothing
    assert client.post(link, data={"kind": "erasure"}).status_code == 400
    db.session.rollback()
    assert _erased_at(participation) is None
    erased = client.post(link, data={"kind": "erasure", "csrf_token": csrf_from(page)})
    assert erased.status_code == 200
    assert "Your data is erased" in erased.get_data(as_text=True)
    db.session.rollback()
    customer = db.session.get(Customer, participation.customer_id)
    assert customer is not None and customer.erased_at is not None and customer.name == ""
    assert client.get(advocate_page).status_code == 404
    used = client.get(link)
    assert used.status_code == 410
    assert "This link has been used already." in used.get_data(as_text=True)


def test_the_export_link_downloads_the_json_once(client: FlaskClient, factory: Factory) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "export")
    page = client.get(link).get_data(as_text=True)
    assert 'data-testid="download"' in page
    answer = client.post(link, data={"kind": "export", "csrf_token": csrf_from(page)})
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == "attachment; filename=my-data.json"
    assert answer.headers["Cache-Control"] == "private, no-store"
    document = json.loads(answer.get_data(as_text=True))
    assert document["customer"]["email"] == "ada@example.com"
    assert document["consents"][0]["text"] == "I agree to the rules"
    again = client.post(link, data={"kind": "export", "csrf_token": csrf_from(page)})
    assert again.status_code == 410
    assert "This link has been used already." in again.get_data(as_text=True)


def test_an_expired_link_answers_410_with_a_page_and_does_nothing(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "erasure")
    page = client.get(link).get_data(as_text=True)
    db.session.rollback()
    row = db.session.scalars(select(PrivacyRequest)).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for answer in (
        client.get(link),
        client.post(link, data={"kind": "erasure", "csrf_token": csrf_from(page)}),
    ):
        assert answer.status_code == 410
        text = answer.get_data(as_text=True)
        assert "This link has expired. Ask for a new one on the privacy page." in text
    db.session.rollback()
    assert _erased_at(participation) is None


def test_an_export_link_cannot_erase(client: FlaskClient, factory: Factory) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "export")
    page = client.get(link).get_data(as_text=True)
    answer = client.post(link, data={"kind": "erasure", "csrf_token": csrf_from(page)})
    assert answer.status_code == 404
    db.session.rollback()
    assert _erased_at(participation) is None
    assert db.session.scalars(select(PrivacyRequest)).one().used_at is None


def test_the_marketer_sees_the_customers_requests_in_the_audit_log(
    client: FlaskClient, factory: Factory, login_as: Any
) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "erasure")
    page = client.get(link).get_data(as_text=True)
    client.post(link, data={"kind": "erasure", "csrf_token": csrf_from(page)})
    db.session.rollback()
    subject = f"customer:{participation.customer_id}"
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "privacy.erasure.requested",
        "privacy.erasure.mailed",
        "customer.erased",
        "privacy.erasure.completed",
    ]
    login_as("owner", workspace=db.session.get(Workspace, participation.campaign.workspace_id))
    log = html.unescape(client.get("/admin/audit").get_data(as_text=True))
    assert "privacy.erasure.completed" in log and subject in log
    assert "ada@example.com" not in log


def test_the_preference_page_of_journey_mail_links_to_the_privacy_page(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    page = client.get(
        f"/preferences/{subscriptions.preferences_token(participation.customer_id)}"
    ).get_data(as_text=True)
    assert f'href="{_page(participation)}" data-testid="privacy-link"' in page


# --- the way on from a refused link ---------------------------------------------------------

ASK_AGAIN = re.compile(r'<a class="button primary wide" href="([^"]+)" data-testid="ask-again">')


def _ask_again(answer: Any) -> str:
    """The address of the page's *Ask for a new link* button."""
    assert answer.status_code == 410
    found = ASK_AGAIN.search(answer.get_data(as_text=True))
    assert found is not None, answer.get_data(as_text=True)
    assert "Ask for a new link" in answer.get_data(as_text=True)
    return html.unescape(found.group(1))


def test_a_used_link_leads_to_the_privacy_page_to_ask_for_a_new_one(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "export")
    page = client.get(link).get_data(as_text=True)
    client.post(link, data={"kind": "export", "csrf_token": csrf_from(page)})
    again = _ask_again(client.get(link))
    assert again == _page(participation)
    shown = client.get(again)
    assert shown.status_code == 200 and 'value="ada@example.com"' in shown.get_data(as_text=True)
    assert _ask(client, again, "ada@example.com", "export").status_code == 200
    new_link = MAILED_LINK.search(_privacy_mails()[-1].body_text)
    assert new_link is not None and new_link.group(1) != link
    assert client.get(new_link.group(1)).status_code == 200


def test_an_expired_link_leads_to_the_privacy_page_too(
    client: FlaskClient, factory: Factory
) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "erasure")
    db.session.rollback()
    row = db.session.scalars(select(PrivacyRequest)).one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert _ask_again(client.get(link)) == _page(participation)


def test_after_an_erasure_the_way_on_names_nobody(client: FlaskClient, factory: Factory) -> None:
    participation = _join(factory)
    link = _mailed_link(client, participation, "erasure")
    page = client.get(link).get_data(as_text=True)
    client.post(link, data={"kind": "erasure", "csrf_token": csrf_from(page)})
    again = _ask_again(client.get(link))
    workspace_id = participation.campaign.workspace_id
    assert again == f"/privacy/{privacy_requests.page_token(workspace_id)}"
    shown = client.get(again).get_data(as_text=True)
    assert 'name="email"' in shown and "ada@example.com" not in shown


def test_a_forged_page_or_link_says_where_the_privacy_page_is(client: FlaskClient) -> None:
    for path in ("/privacy/not-a-token", "/privacy/link/not-a-token"):
        text = html.unescape(client.get(path).get_data(as_text=True))
        assert "“Download or erase your data” at the end of any e-mail we sent you." in text
