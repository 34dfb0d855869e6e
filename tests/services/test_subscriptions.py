"""Subscription topics from the consent record, the changes a customer makes to them, the
signed links that let them, and the unsubscribe headers of every journey mail."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select

from referral.domain.errors import NotFound, ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry, ConsentRecord, Customer, OutboxMessage
from referral.models.base import utcnow
from referral.services import outbox, subscriptions
from referral.services.journey_runner import run_due
from referral.services.journey_templates import save_template
from referral.services.privacy import erase_customer
from referral.services.subscriptions import Birthday
from tests.factories import Factory, free_port
from tests.services.journey_setup import DAY, T0, Shop, end, give_consent, mails, make_shop, send
from tests.services.test_outbox import Inbox


@pytest.fixture
def shop(factory: Factory) -> Shop:
    return make_shop(factory)


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{controller.port}"
    app.config["MAIL_FROM"] = "news@brand.example"
    app.config["PUBLIC_BASE_URL"] = "https://refer.brand.example"
    yield inbox
    controller.stop()


def _customer(factory: Factory) -> Customer:
    return factory.customer(factory.workspace())


def _rows(customer: Customer) -> list[tuple[str, str, str, str | None]]:
    db.session.rollback()
    found = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer.id)
        .order_by(ConsentRecord.id)
    )
    return [(r.purpose, r.action, r.page, r.user_agent) for r in found]


# --- topics -------------------------------------------------------------------------------


def test_a_customer_without_an_opt_in_gets_transactional_mail_only(factory: Factory) -> None:
    assert subscriptions.topics_of(_customer(factory)) == {"transactional"}


def test_marketing_needs_a_recorded_opt_in_and_birthday_its_own(factory: Factory) -> None:
    customer = _customer(factory)
    give_consent(customer, "marketing", T0)
    db.session.commit()
    assert subscriptions.topics_of(customer) == {"transactional", "marketing"}
    give_consent(customer, "birthday", T0 + DAY)
    give_consent(customer, "marketing", T0 + DAY, "withdrawn")
    db.session.commit()
    assert subscriptions.topics_of(customer) == {"transactional", "birthday"}


def test_setting_topics_writes_one_row_per_change_with_its_source_and_user_agent(
    factory: Factory,
) -> None:
    customer = _customer(factory)
    changes = subscriptions.set_topics(
        customer, ["marketing"], "preferences-page", user_agent="Firefox", texts={}
    )
    assert changes == ["marketing:given"]
    assert subscriptions.set_topics(customer, ["marketing"], "preferences-page") == []
    changes = subscriptions.set_topics(customer, [], "preferences-page", user_agent="Safari")
    assert changes == ["marketing:withdrawn"]
    assert _rows(customer) == [
        ("marketing", "given", "preferences-page", "Firefox"),
        ("marketing", "withdrawn", "preferences-page", "Safari"),
    ]
    assert subscriptions.topics_of(customer) == {"transactional"}
    audited = db.session.scalars(select(AuditEntry.action)).all()
    assert audited == ["consent.withdrawn"]


def test_an_opt_in_keeps_the_words_the_customer_was_shown(factory: Factory) -> None:
    customer = _customer(factory)
    subscriptions.set_topics(
        customer, ["marketing"], "preferences-page", texts={"marketing": "Mail mir Angebote"}
    )
    row = db.session.scalar(select(ConsentRecord))
    assert (row.text, row.version, row.withdrawn_at) == ("Mail mir Angebote", "preferences-1", None)


def test_the_birthday_opt_in_stores_month_and_day_only_and_withdrawing_forgets_them(
    factory: Factory,
) -> None:
    customer = _customer(factory)
    subscriptions.set_topics(customer, ["birthday"], "preferences-page", birthday=Birthday(2, 29))
    db.session.rollback()
    assert (customer.birthday_month, customer.birthday_day) == (2, 29)
    assert subscriptions.topics_of(customer) == {"transactional", "birthday"}
    subscriptions.set_topics(customer, ["marketing"], "preferences-page")
    db.session.rollback()
    assert (customer.birthday_month, customer.birthday_day) == (None, None)
    assert subscriptions.topics_of(customer) == {"transactional", "marketing"}


@pytest.mark.parametrize("birthday", [None, Birthday(2, 30), Birthday(13, 1)])
def test_a_birthday_opt_in_without_a_real_day_is_refused_and_writes_nothing(
    factory: Factory, birthday: Birthday | None
) -> None:
    customer = _customer(factory)
    with pytest.raises(ValidationFailed) as refused:
        subscriptions.set_topics(customer, ["marketing", "birthday"], "x", birthday=birthday)
    assert "birthday" in refused.value.messages
    assert _rows(customer) == []
    assert customer.birthday_month is None


def test_an_unknown_topic_is_refused(factory: Factory) -> None:
    with pytest.raises(ValidationFailed) as refused:
        subscriptions.set_topics(_customer(factory), ["spam"], "x")
    assert "topics" in refused.value.messages


def test_unsubscribing_twice_records_one_withdrawal(factory: Factory) -> None:
    customer = _customer(factory)
    give_consent(customer, "marketing", T0)
    db.session.commit()
    assert subscriptions.unsubscribe(customer, "marketing", user_agent="Gmail")
    assert not subscriptions.unsubscribe(customer, "marketing")
    assert _rows(customer)[1:] == [("marketing", "withdrawn", "one-click", "Gmail")]


# --- signed links -------------------------------------------------------------------------


def test_the_links_name_their_customer_and_topic(factory: Factory) -> None:
    customer = _customer(factory)
    token = subscriptions.unsubscribe_token(customer.id, "birthday")
    assert subscriptions.from_unsubscribe_token(token) == (customer, "birthday")
    assert subscriptions.from_preferences_token(subscriptions.preferences_token(customer.id)) == (
        customer
    )
    assert subscriptions.unsubscribe_url(customer.id, "marketing").startswith("http://localhost/u/")


def test_a_forged_altered_or_foreign_token_is_not_found(app: Flask, factory: Factory) -> None:
    customer = _customer(factory)
    token = subscriptions.unsubscribe_token(customer.id, "marketing")
    page = subscriptions.preferences_token(customer.id)
    for bad in (token[:-2] + "xx", "garbage", "", page):
        with pytest.raises(NotFound):
            subscriptions.from_unsubscribe_token(bad)
    for bad in (page[:-2] + "xx", token):
        with pytest.raises(NotFound):
            subscriptions.from_preferences_token(bad)
    with pytest.raises(NotFound):  # signed, but not a topic one may leave
        subscriptions.from_unsubscribe_token(
            subscriptions.unsubscribe_token(customer.id, "transactional")
        )
    app.config["SECRET_KEY"] = "another-secret"
    with pytest.raises(NotFound):
        subscriptions.from_unsubscribe_token(token)


def test_the_link_of_an_erased_customer_is_not_found(factory: Factory) -> None:
    customer = _customer(factory)
    token = subscriptions.preferences_token(customer.id)
    erase_customer(customer)
    with pytest.raises(NotFound):
        subscriptions.from_preferences_token(token)


# --- the mail -----------------------------------------------------------------------------


def _journey_mail(shop: Shop) -> tuple[Customer, OutboxMessage]:
    save_template(
        shop.workspace_id,
        "welcome",
        "en",
        "Welcome",
        "Leave: {{ unsubscribe_url }} Choose: {{ preferences_url }}",
    )
    shop.journey([send("hello"), end()])
    anna = shop.person()
    shop.event(anna, "signup_confirmed")
    run_due(T0)
    [mail] = mails()
    customer = db.session.get(Customer, anna.customer_id)
    assert customer is not None
    return customer, mail


def test_a_journey_mail_carries_a_one_click_unsubscribe_and_a_date(smtp: Inbox, shop: Shop) -> None:
    customer, mail = _journey_mail(shop)
    assert mail.kind == "journey:marketing"
    assert outbox.deliver_pending() == 1
    [sent] = smtp.messages
    header = sent["List-Unsubscribe"]
    assert header.startswith("<https://refer.brand.example/u/") and header.endswith(">")
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert subscriptions.from_unsubscribe_token(header[1:-1].rpartition("/")[2]) == (
        customer,
        "marketing",
    )
    assert abs((parsedate_to_datetime(sent["Date"]) - utcnow()).total_seconds()) < 60


def test_the_message_quotes_the_unsubscribe_link_and_the_preference_page(shop: Shop) -> None:
    customer, mail = _journey_mail(shop)
    assert subscriptions.unsubscribe_url(customer.id, "marketing") in mail.body_text
    assert subscriptions.preferences_url(customer.id) in mail.body_text


def test_transactional_mail_has_a_date_and_no_unsubscribe_link(
    smtp: Inbox, factory: Factory
) -> None:
    customer = _customer(factory)
    outbox.queue(
        customer.workspace_id,
        customer.email_display,
        "confirmation",
        outbox.Mail("Confirm", "Click"),
        customer.id,
    )
    db.session.commit()
    outbox.deliver_pending()
    [sent] = smtp.messages
    assert sent["Date"] and sent["Message-ID"]
    assert sent["List-Unsubscribe"] is None and sent["List-Unsubscribe-Post"] is None


def test_the_built_birthday_mail_unsubscribes_from_birthday_mail_only(factory: Factory) -> None:
    customer = _customer(factory)
    row: Any = outbox.queue(
        customer.workspace_id,
        customer.email_display,
        "journey:birthday",
        outbox.Mail("Happy birthday", "Hi"),
        customer.id,
    )
    db.session.flush()
    built = outbox.build_email(row, "news@brand.example")
    token = built["List-Unsubscribe"].strip("<>").rpartition("/")[2]
    assert subscriptions.from_unsubscribe_token(token) == (customer, "birthday")
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0
