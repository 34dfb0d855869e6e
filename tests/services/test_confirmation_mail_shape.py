"""The built-in confirmation mail is rendered once per campaign and language, with slots
for each person's own values, and filled for each person: exactly what rendering it for
them would give."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext

from referral import emails, slots
from referral.extensions import db
from referral.i18n import campaign_words
from referral.models import Campaign, Customer, Participation
from referral.services.advocates import advocate_token, referral_url
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory


def _rendered(participation: Participation, customer: Customer, token: str) -> emails.Mail:
    """The mail as the templates write it for this person, without any shape."""
    base = current_app.config["PUBLIC_BASE_URL"]
    links = {
        "confirm_url": f"{base}/confirm/{token}",
        "advocate_url": f"{base}/me/{advocate_token(participation)}",
        "referral_url": referral_url(participation),
    }
    return emails._mail(
        "confirmation",
        participation.campaign_id,
        participation,
        customer,
        lambda campaign: gettext(
            "Please confirm your e-mail address for %(campaign)s",
            campaign=campaign_words(campaign).name,
        ),
        lambda _campaign, _base: links,
    )


def _person(campaign: Campaign, email: str, name: str, locale: str):
    joined = join_campaign(campaign, JoinRequest(email=email, name=name, locale=locale), Visitor())
    customer = db.session.get(Customer, joined.participation.customer_id)
    return joined.participation, customer


def test_each_persons_mail_is_what_the_templates_write_for_them(factory: Factory) -> None:
    campaign = factory.campaign(status="live", name='Beans & "friends"', locales=["en", "de"])
    people = [
        _person(campaign, "a@example.com", "<b>Ada</b>&Co Lovelace", "en"),
        _person(campaign, "b@example.com", "Bob & Co", "en"),
        _person(campaign, "c@example.com", "", "en"),
        _person(campaign, "d@example.com", "Dörte", "de"),
        _person(campaign, "e@example.com", slots.slot("confirm_url"), "en"),
    ]
    for participation, customer in people:
        token = f"tok-{customer.id}"
        assert emails.confirmation(participation, customer, token) == _rendered(
            participation, customer, token
        )
    sent = emails.confirmation(*people[0], "t1")
    assert "Hello &lt;b&gt;Ada&lt;/b&gt;&amp;Co," in sent.html
    assert "Hello <b>Ada</b>&Co," in sent.text


def test_the_shape_is_rendered_once_and_follows_a_change_of_the_campaign(
    factory: Factory, monkeypatch
) -> None:
    campaign = factory.campaign(status="live", name="Summer beans")
    first = _person(campaign, "a@example.com", "Ada", "en")
    second = _person(campaign, "b@example.com", "Bob", "en")
    db.session.commit()
    rendered: list[str] = []
    real = emails._mail

    def counting(template, *args, **kwargs):
        rendered.append(template)
        return real(template, *args, **kwargs)

    monkeypatch.setattr(emails, "_mail", counting)
    assert "Summer beans" in emails.confirmation(*first, "t1").subject
    db.session.commit()
    assert "Bob" in emails.confirmation(*second, "t2").text
    assert rendered == ["confirmation"]  # the second person's mail came from the shape
    db.session.get(Campaign, campaign.id).name = "Winter beans"
    db.session.commit()
    assert "Winter beans" in emails.confirmation(*second, "t3").subject
    assert rendered == ["confirmation", "confirmation"]
