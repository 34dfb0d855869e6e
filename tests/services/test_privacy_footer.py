"""Every e-mail to a customer carries the link to their privacy page, in text and HTML, in
their language: the built-in mails, a workspace's rewording, a journey's message and the
privacy link mail, without anyone having to write it into a template."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select

from referral import emails
from referral.extensions import db
from referral.models import Customer, Draw, OutboxMessage, Participation, Trial
from referral.models.base import utcnow
from referral.services import mail_templates, privacy_requests
from referral.services.journey_runner import run_due
from referral.services.journey_templates import save_template
from referral.services.outbox import Mail
from referral.services.privacy_footer import with_privacy_link
from tests.factories import Factory
from tests.services.journey_setup import T0, end, mails, make_shop, send

LABELS = {
    "en": "Download or erase your data",
    "de": "Ihre Daten herunterladen oder löschen",
}


@pytest.fixture
def person(factory: Factory) -> tuple[Participation, Customer]:
    """Lena, who joined a live campaign in German."""
    workspace = factory.workspace()
    campaign = factory.campaign(workspace, status="live", locales=["en", "de"])
    customer = factory.customer(workspace, "lena@example.com")
    participation = factory.participation(campaign, customer=customer, status="confirmed")
    participation.locale = "de"
    db.session.commit()
    return participation, customer


def assert_linked(mail: Mail, customer: Customer, locale: str, *, html: bool = True) -> None:
    """The page address is in both parts, once, and the label in ``locale``."""
    url = privacy_requests.page_url(customer.workspace_id, customer.id)
    assert mail.text.count(url) == 1, mail.text
    assert LABELS[locale] in mail.text
    if html:
        assert mail.html.count(f'href="{url}"') == 1, mail.html
        assert LABELS[locale] in mail.html
        assert mail.html.rstrip().endswith("</html>")


def test_the_label_is_translated_in_every_language_the_tests_name(app: Any) -> None:
    from flask_babel import force_locale, gettext

    for locale, label in LABELS.items():
        with force_locale(locale):
            assert gettext("Download or erase your data") == label


def test_the_built_in_mails_carry_it(person: tuple[Participation, Customer]) -> None:
    participation, customer = person
    draw = cast(Draw, type("D", (), {"id": 9, "campaign_id": participation.campaign_id}))
    trial = cast(
        Trial,
        type(
            "T",
            (),
            {"ends_at": utcnow() + timedelta(days=3), "campaign_id": participation.campaign_id},
        ),
    )
    for mail in (
        emails.confirmation(participation, customer, "tok"),
        emails.draw_winner(draw, participation, customer),
        emails.trial_ending(trial, participation, customer),
    ):
        assert_linked(mail, customer, "de")


@pytest.mark.parametrize("mail", ["confirmation", "draw_winner", "trial_ending"])
def test_a_workspaces_rewording_without_the_link_gets_it(
    person: tuple[Participation, Customer], mail: str
) -> None:
    participation, customer = person
    mail_templates.save_mail_template(
        customer.workspace_id,
        mail,
        "de",
        "Hallo",
        "Hallo {{ customer.first_name }}",
        "<html><body><p>Hallo</p></body></html>",
    )
    draw = cast(Draw, type("D", (), {"id": 9, "campaign_id": participation.campaign_id}))
    trial = cast(
        Trial,
        type(
            "T",
            (),
            {"ends_at": utcnow() + timedelta(days=3), "campaign_id": participation.campaign_id},
        ),
    )
    written = {
        "confirmation": lambda: emails.confirmation(participation, customer, "tok"),
        "draw_winner": lambda: emails.draw_winner(draw, participation, customer),
        "trial_ending": lambda: emails.trial_ending(trial, participation, customer),
    }[mail]()
    assert written.subject == "Hallo"
    assert written.text.startswith("Hallo")
    assert_linked(written, customer, "de")


@pytest.mark.parametrize("kind", [privacy_requests.EXPORT, privacy_requests.ERASURE])
def test_the_privacy_link_mail_carries_the_page_to_ask_again(factory: Factory, kind: str) -> None:
    customer = factory.customer(factory.workspace(), "ada@example.com")
    mail = emails.privacy_link(customer, kind, "tok")
    assert "/privacy/link/tok" in mail.text
    assert_linked(mail, customer, "en")


def test_a_journey_message_gets_it_in_the_customers_language(factory: Factory) -> None:
    shop = make_shop(factory)
    save_template(shop.workspace_id, "welcome", "de", "Willkommen", "Danke.", "<p>Danke.</p>")
    shop.journey([send("hello"), end()])
    dora = shop.person(name="Dora Deutsch", locale="de")
    nina = shop.person(name="Nina Nederlands")
    shop.event(dora, "signup_confirmed")
    shop.event(nina, "signup_confirmed")
    run_due(T0)
    german, english = mails()
    for message, locale in ((german, "de"), (english, "en")):
        customer = db.session.get(Customer, message.customer_id)
        assert customer is not None
        url = privacy_requests.page_url(shop.workspace_id, customer.id)
        assert message.body_text.count(url) == 1 and LABELS[locale] in message.body_text
    assert german.body_text.startswith("Danke.")
    de_url = privacy_requests.page_url(shop.workspace_id, cast(int, german.customer_id))
    assert german.body_html.count(f'href="{de_url}"') == 1
    assert english.body_html == ""  # a text-only message stays text only


def test_a_part_that_quotes_the_address_already_is_left_alone(factory: Factory) -> None:
    customer = factory.customer(factory.workspace(), "ada@example.com")
    url = privacy_requests.page_url(customer.workspace_id, customer.id)
    mail = Mail("Hi", f"Yours: {url}", "<p>No link here</p>")
    linked = with_privacy_link(mail, customer.workspace_id, customer.id, "en")
    assert linked.text == f"Yours: {url}"
    assert (
        linked.html
        == f'<p>No link here</p>\n<p><small><a href="{url}">{LABELS["en"]}</a></small></p>'
    )


def test_every_queued_customer_mail_of_a_sign_up_has_it(factory: Factory) -> None:
    from referral.services.joining import JoinRequest, Visitor, join_campaign

    campaign = factory.campaign(status="live")
    joined = join_campaign(
        campaign, JoinRequest(email="mia@example.com", locale="en"), Visitor(), emails.confirmation
    )
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.customer_id == joined.participation.customer_id)
    )
    assert message is not None
    url = privacy_requests.page_url(campaign.workspace_id, joined.participation.customer_id)
    assert message.body_text.count(url) == 1 and message.body_html.count(f'href="{url}"') == 1
