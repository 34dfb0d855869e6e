"""The unsubscribe link and the preference page: a GET never changes anything, the one-click
POST works without cookies or a form token and stops the very next journey mail, and the
preference page is a form with its CSRF token that re-renders bad input with 422."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.extensions import db
from referral.models import ConsentRecord, Customer, Workspace
from referral.models.webhooks import WebhookDelivery
from referral.services import subscriptions, webhooks
from referral.services.journey_runner import run_due
from tests.conftest import csrf_from
from tests.factories import Factory
from tests.services.journey_setup import (
    DAY,
    T0,
    Shop,
    end,
    enrolments,
    give_consent,
    mails,
    make_shop,
    outcomes,
    send,
)
from tests.webhook_receiver import Receiver

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def shop(factory: Factory) -> Shop:
    return make_shop(factory)


def _subscribed(factory: Factory, *topics: str) -> Customer:
    customer = factory.customer(factory.workspace())
    for topic in topics:
        give_consent(customer, topic, T0)
    db.session.commit()
    return customer


def _rows(customer: Customer) -> list[tuple[str, str, str]]:
    db.session.rollback()
    found = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .order_by(ConsentRecord.id)
    )
    return [(r.purpose, r.action, r.page) for r in found]


def _unsubscribe_path(customer: Customer, topic: str = "marketing") -> str:
    return f"/u/{subscriptions.unsubscribe_token(customer.id, topic)}"


def _preferences_path(customer: Customer) -> str:
    return f"/preferences/{subscriptions.preferences_token(customer.id)}"


# --- the unsubscribe link -----------------------------------------------------------------


def test_opening_the_link_shows_a_button_and_changes_nothing(
    client: FlaskClient, factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing")
    shown = client.get(_unsubscribe_path(customer))
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert "Unsubscribe from news and offers" in page
    assert 'name="csrf_token"' not in page
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert _rows(customer) == [("marketing", "given", "")]


def test_one_click_answers_200_without_cookies_or_a_form_token(
    client: FlaskClient, factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing", "birthday")
    done = client.post(
        _unsubscribe_path(customer), data=ONE_CLICK, headers={"User-Agent": "MailClient/1"}
    )
    assert done.status_code == 200
    assert done.headers.getlist("Set-Cookie") == []
    assert "You are unsubscribed" in done.get_data(as_text=True)
    assert _rows(customer)[2:] == [("marketing", "withdrawn", "one-click")]
    assert subscriptions.topics_of(customer) == {"transactional", "birthday"}
    row = db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id.desc())).first()
    assert row is not None and row.user_agent == "MailClient/1"


def test_one_click_again_or_when_not_subscribed_answers_200_and_writes_nothing(
    client: FlaskClient, factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing")
    assert client.post(_unsubscribe_path(customer), data=ONE_CLICK).status_code == 200
    assert client.post(_unsubscribe_path(customer), data=ONE_CLICK).status_code == 200
    assert [r[1] for r in _rows(customer)] == ["given", "withdrawn"]
    page = client.get(_unsubscribe_path(customer)).get_data(as_text=True)
    assert "You are not subscribed to news and offers." in page


def test_the_pages_button_unsubscribes_as_well(client: FlaskClient, factory: Factory) -> None:
    customer = _subscribed(factory, "birthday")
    assert client.post(_unsubscribe_path(customer, "birthday")).status_code == 200
    assert _rows(customer)[1:] == [("birthday", "withdrawn", "unsubscribe-page")]


@pytest.mark.parametrize("path", ["/u/not-a-token", "/preferences/not-a-token"])
def test_a_forged_link_answers_404_with_a_page(client: FlaskClient, path: str) -> None:
    for method in ("GET", "POST"):
        answer = client.open(path, method=method, data=ONE_CLICK)
        if method == "POST" and path.startswith("/preferences"):
            # a form without its token is turned away first, with a page of its own
            assert answer.status_code == 400
            assert "Form expired" in answer.get_data(as_text=True)
            continue
        assert answer.status_code == 404, method
        assert "This link is not valid." in answer.get_data(as_text=True)


def test_an_altered_link_answers_404(client: FlaskClient, factory: Factory) -> None:
    customer = _subscribed(factory, "marketing")
    path = _unsubscribe_path(customer)
    assert client.post(path[:-3] + "abc", data=ONE_CLICK).status_code == 404
    assert client.get(f"/u/{subscriptions.preferences_token(customer.id)}").status_code == 404
    assert _rows(customer) == [("marketing", "given", "")]


def test_one_click_stops_the_next_journey_mail_at_once(client: FlaskClient, shop: Shop) -> None:
    journey = shop.journey(
        [
            send("hello"),
            {"id": "w", "type": "wait", "for": {"days": 1}},
            send("again", "second"),
            end(),
        ]
    )
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [first] = mails()
    assert first.customer_id is not None
    link = subscriptions.unsubscribe_url(first.customer_id, first.kind.partition(":")[2])
    assert client.post(link, data=ONE_CLICK).status_code == 200
    run_due(T0 + DAY)
    [enrolment] = enrolments(journey)
    assert ("hello", "sent") in outcomes(enrolment)
    assert ("again", "skipped:no_consent") in outcomes(enrolment)
    assert len(mails()) == 1


# --- the preference page ------------------------------------------------------------------


def _form(client: FlaskClient, customer: Customer) -> str:
    return csrf_from(client.get(_preferences_path(customer)).get_data(as_text=True))


def test_the_preference_page_shows_the_topics_ticked_as_they_are(
    client: FlaskClient, factory: Factory
) -> None:
    customer = _subscribed(factory, "marketing")
    shown = client.get(_preferences_path(customer))
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "private, no-store"
    page = shown.get_data(as_text=True)
    assert 'checked id="marketing"' in page
    assert 'id="birthday" name="birthday" type="checkbox" value="y">' in page


def test_saving_the_preferences_records_each_change(client: FlaskClient, factory: Factory) -> None:
    customer = _subscribed(factory, "marketing")
    token = _form(client, customer)
    saved = client.post(
        _preferences_path(customer),
        data={"csrf_token": token, "birthday": "y", "birthday_month": "2", "birthday_day": "29"},
    )
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("?saved=1")
    assert _rows(customer)[1:] == [
        ("marketing", "withdrawn", "preferences-page"),
        ("birthday", "given", "preferences-page"),
    ]
    db.session.rollback()
    assert (customer.birthday_month, customer.birthday_day) == (2, 29)
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Your choices are saved." in page


BAD_BIRTHDAYS = [
    {"birthday": "y", "birthday_month": "2", "birthday_day": "30"},
    {"birthday": "y", "birthday_month": "", "birthday_day": ""},
    {"birthday": "y", "birthday_month": "13", "birthday_day": "1"},
]


def test_a_birthday_without_a_real_day_re_renders_the_form_with_422(
    client: FlaskClient, factory: Factory, subtests: pytest.Subtests
) -> None:
    customer = _subscribed(factory)
    for data in BAD_BIRTHDAYS:
        with subtests.test(data=data):
            answer = client.post(
                _preferences_path(customer),
                data={"csrf_token": _form(client, customer), "marketing": "y", **data},
            )
            assert answer.status_code == 422
            assert 'role="alert"' in answer.get_data(as_text=True)
            assert _rows(customer) == []


def test_the_preference_form_needs_its_csrf_token(client: FlaskClient, factory: Factory) -> None:
    customer = _subscribed(factory, "marketing")
    assert client.post(_preferences_path(customer), data={}).status_code == 400
    assert _rows(customer) == [("marketing", "given", "")]


FEBRUARY = {"en": "February", "de": "Februar", "nl": "februari", "zh_Hans": "二月",
            "zh_Hant": "2月"}  # fmt: skip


def test_the_pages_render_in_every_locale(
    client: FlaskClient, factory: Factory, subtests: pytest.Subtests
) -> None:
    customer = _subscribed(factory, "marketing")
    for locale, february in FEBRUARY.items():
        with subtests.test(locale=locale):
            page = client.get(f"{_preferences_path(customer)}?lang={locale}")
            assert page.status_code == 200
            assert f'<html lang="{locale.replace("_", "-")}"' in page.get_data(as_text=True)
            assert february in page.get_data(as_text=True)
            assert client.get(f"{_unsubscribe_path(customer)}?lang={locale}").status_code == 200


def test_a_withdrawal_from_the_pages_fires_the_consent_withdrawn_webhook(
    client: FlaskClient, factory: Factory, receiver: Receiver
) -> None:
    customer = _subscribed(factory, "marketing", "birthday")
    workspace = db.session.get(Workspace, customer.workspace_id)
    assert workspace is not None
    webhooks.create_endpoint(workspace, receiver.url, ["consent.withdrawn"])
    assert client.post(_unsubscribe_path(customer), data=ONE_CLICK).status_code == 200
    client.post(
        _preferences_path(customer),
        data={"csrf_token": _form(client, customer), "marketing": "y"},
    )
    db.session.rollback()
    sent = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [d.event for d in sent] == ["consent.withdrawn", "consent.withdrawn"]
    assert [d.payload["data"]["consent"]["purpose"] for d in sent] == ["marketing", "birthday"]
