"""What a first-time visitor meets: links that lead to the server they came from, the demo
campaigns on a development server's home page, who invited them, why their own link did
not count, what a friend's status and a reward mean, a finished draw's winners and check,
the printed card's disclosure, times with their zone, and mail with a sender of the site."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import emails
from referral.config import default_sender, from_environment
from referral.demo.seed import seed_demo
from referral.extensions import db
from referral.models import Campaign, OutboxMessage, Participation
from referral.models.base import utcnow
from referral.public.links import qr_url
from referral.services import draws
from referral.services.advocates import advocate_token
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, is_open, join_campaign
from referral.services.outbox import build_email
from referral.services.rewards import grant
from referral.services.rules import add_rule
from tests.factories import LOTTERY_RULES, Factory
from tests.web.conftest import join_through_form, text_of

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/confirm/[A-Za-z0-9_\-]+)")


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="summer", name="Summer bikes")


def join(
    campaign: Campaign, email: str, name: str = "", code: str | None = None, confirmed: bool = True
) -> Participation:
    request = JoinRequest(email=email, name=name, referral_code=code, confirmed=confirmed)
    return join_campaign(campaign, request, Visitor()).participation


def advocate_page(client: FlaskClient, participation: Participation) -> str:
    response = client.get(f"/me/{advocate_token(participation)}")
    assert response.status_code == 200
    return text_of(response)


def confirm_path(to: str) -> str:
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.to_address == to, OutboxMessage.kind == "confirmation"
        )
    ).one()
    match = CONFIRM_LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1)


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object, **env: str) -> dict:
    for name in ("PUBLIC_BASE_URL", "HOST", "PORT", "MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return from_environment(str(tmp_path))


# --- the public address follows the port ---------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:5000"),
        ({"PORT": "5101"}, "http://127.0.0.1:5101"),
        ({"PORT": "5101", "HOST": "0.0.0.0"}, "http://127.0.0.1:5101"),  # noqa: S104
        ({"PORT": "8080", "HOST": "shop.local"}, "http://shop.local:8080"),
        ({"PORT": "8080", "HOST": "::1"}, "http://[::1]:8080"),
        ({"PORT": "lots"}, "http://127.0.0.1:5000"),
        (
            {"PORT": "5101", "PUBLIC_BASE_URL": "https://refer.example.com/"},
            "https://refer.example.com",
        ),
    ],
)
def test_without_a_public_address_the_default_follows_the_host_and_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, env: dict[str, str], expected: str
) -> None:
    assert _environment(monkeypatch, tmp_path, **env)["PUBLIC_BASE_URL"] == expected


def test_a_server_on_port_5101_links_mail_referral_links_and_qr_cards_to_5101(
    app: Flask,
    client: FlaskClient,
    live: Campaign,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    """Does ``PORT=5101 make run`` hand out links to port 5000? Not any more."""
    base = _environment(monkeypatch, tmp_path, PORT="5101")["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = base
    join_through_form(client, live, "anna@example.com")
    message = db.session.scalars(select(OutboxMessage)).one()
    assert "http://127.0.0.1:5101/confirm/" in message.body_text
    assert ":5000" not in message.body_text
    person = db.session.scalars(select(Participation)).one()
    code = person.referral_code
    assert f"http://127.0.0.1:5101/r/{code}" in advocate_page(client, person)
    assert f"127.0.0.1:5101/r/{code}" in text_of(client.get(f"/q/{code}/card"))
    with app.test_request_context():
        assert qr_url(code) == f"http://127.0.0.1:5101/r/{code}?ch=qr"  # what the QR encodes


# --- mail: Date, Message-ID and a sender of the site ----------------------------------------


@pytest.mark.parametrize(
    ("base", "sender"),
    [
        ("https://refer.example.com", "referral@refer.example.com"),
        ("http://shop.example.org:8080", "referral@shop.example.org"),
        ("http://127.0.0.1:5101", "referral@localhost"),
        ("http://[::1]:8080", "referral@localhost"),
        ("http://localhost:5000", "referral@localhost"),
    ],
)
def test_the_default_sender_is_referral_at_the_public_host(base: str, sender: str) -> None:
    assert default_sender(base) == sender


def test_without_mail_from_mail_comes_from_the_public_host_and_mail_from_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    settings = _environment(monkeypatch, tmp_path, PUBLIC_BASE_URL="https://refer.example.com")
    assert settings["MAIL_FROM"] == "referral@refer.example.com"
    chosen = _environment(
        monkeypatch, tmp_path, PUBLIC_BASE_URL="https://refer.example.com", MAIL_FROM="a@b.example"
    )
    assert chosen["MAIL_FROM"] == "a@b.example"


def test_every_mail_carries_a_date_and_a_message_id_of_its_sender(
    app: Flask, live: Campaign
) -> None:
    with app.test_request_context():
        join_campaign(
            live, JoinRequest(email="anna@example.com"), Visitor(), compose=emails.confirmation
        )
    message = db.session.scalars(select(OutboxMessage)).one()
    email = build_email(message, "referral@refer.example.com")
    assert email["From"] == "referral@refer.example.com"
    assert email["Date"] and email["Date"].datetime.tzinfo is not None
    assert re.fullmatch(r"<[^@<>\s]+@refer\.example\.com>", str(email["Message-ID"]))


# --- the home page ---------------------------------------------------------------------------


def demo_campaigns(factory: Factory) -> dict[str, Campaign]:
    demo = factory.workspace(slug="demo", name="Demo Coffee Roasters")
    other = factory.workspace()
    return {
        "live": factory.campaign(demo, status="live", slug="demo-live", name="Coffee friends"),
        "draft": factory.campaign(demo, status="draft", slug="demo-draft", name="Draft one"),
        "closed": factory.campaign(demo, status="closed", slug="demo-closed", name="Old draw"),
        "other": factory.campaign(other, status="live", slug="not-demo", name="Other brand"),
    }


def test_in_development_the_home_page_lists_the_open_demo_campaigns(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    demo_campaigns(factory)
    app.config["REFERRAL_ENV"] = "development"
    page = text_of(client.get("/"))
    assert 'href="/c/demo-live"' in page and "Coffee friends" in page
    for slug in ("demo-draft", "demo-closed", "not-demo"):
        assert f"/c/{slug}" not in page
    assert 'href="/login"' in page


def test_the_seeded_demos_open_landing_pages_are_on_the_development_home_page(
    app: Flask, client: FlaskClient
) -> None:
    seed_demo(participants=20)
    app.config["REFERRAL_ENV"] = "development"
    page = text_of(client.get("/"))
    demo = db.session.scalars(select(Campaign).order_by(Campaign.id)).all()
    listed = {c.slug for c in demo if f'href="/c/{c.slug}"' in page}
    assert "demo-coffee-friends" in listed and "demo-espresso-draw" in listed
    assert listed == {c.slug for c in demo if is_open(c)}
    for slug in listed:
        assert client.get(f"/c/{slug}").status_code == 200


def test_in_production_the_home_page_lists_no_campaigns(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    demo_campaigns(factory)
    app.config["REFERRAL_ENV"] = "production"
    page = text_of(client.get("/"))
    assert "/c/demo-live" not in page and 'data-testid="demo-campaigns"' not in page
    assert 'href="/login"' in page


# --- self-referral, invitations --------------------------------------------------------------


def test_a_person_who_joins_through_their_own_link_is_told_it_does_not_count(
    client: FlaskClient, live: Campaign
) -> None:
    join_through_form(client, live, "ada@example.com", name="Ada Lovelace")
    thanks = text_of(client.get(confirm_path("ada@example.com")))
    assert "does not count" not in thanks
    ada = db.session.scalars(select(Participation)).one()
    # The same browser, a second address, Ada's own link.
    join_through_form(
        client, live, "ada.work@example.org", page=f"/c/summer?ref={ada.referral_code}"
    )
    db.session.rollback()
    second = db.session.scalars(select(Participation).order_by(Participation.id.desc())).first()
    assert second is not None and second.referral_status == "self_referral"
    assert second.referrer_id is None
    thanks = text_of(client.get(confirm_path("ada.work@example.org")))
    assert "Your own link does not count as a referral." in thanks
    assert "Your own link does not count as a referral." in advocate_page(client, second)
    assert "Your own link does not count" not in advocate_page(client, ada)


def test_a_friend_arriving_through_a_link_is_told_who_invited_them(
    client: FlaskClient, live: Campaign
) -> None:
    ada = join(live, "ada.lovelace@example.com", "Ada Lovelace")
    response = client.get(f"/c/summer?ref={ada.referral_code}")
    page = text_of(response)
    assert "Ada L. invited you" in page
    assert "ada.lovelace" not in page and "a***@" not in page
    assert "no-store" in response.headers["Cache-Control"]
    # A link through /r/ leaves the code in the first-touch cookie: the same words.
    other = client.application.test_client()
    assert other.get(f"/r/{ada.referral_code}").status_code == 302
    assert "Ada L. invited you" in text_of(other.get("/c/summer"))


def test_nobody_is_named_without_a_name_a_link_or_for_a_rejected_advocate(
    client: FlaskClient, live: Campaign, factory: Factory
) -> None:
    nameless = join(live, "nameless@example.com")
    rejected = factory.participation(live, status="rejected")
    assert "invited you" not in text_of(client.get("/c/summer"))
    for code in (nameless.referral_code, rejected.referral_code, "NOPE1234"):
        fresh = client.application.test_client()
        page = text_of(fresh.get(f"/c/summer?ref={code}"))
        assert "invited you" not in page, code
        assert "nameless@" not in page and "n***@" not in page


# --- the advocate page: friends and rewards ----------------------------------------------------


def test_a_flagged_friend_who_has_not_confirmed_is_waiting_for_confirmation_and_flagged(
    client: FlaskClient, live: Campaign, factory: Factory
) -> None:
    ada = join(live, "ada@example.com", "Ada Lovelace")
    unconfirmed = factory.participation(live, referrer=ada, status="flagged")
    confirmed = factory.participation(live, referrer=ada, status="flagged", confirmed_at=utcnow())
    page = advocate_page(client, ada)
    rows = re.findall(r'<li class="friend friend-([a-z_]+)">(.*?)</li>', page, re.S)
    by_reason = {reason: body for reason, body in rows}
    assert set(by_reason) == {"waiting_for_confirmation", "under_review"}
    waiting_row = by_reason["waiting_for_confirmation"]
    assert "Waiting for them to confirm their e-mail" in waiting_row
    assert "Under review" in waiting_row  # and flagged, said beside it
    assert "Waiting for them" not in by_reason["under_review"]
    assert unconfirmed.confirmed_at is None and confirmed.confirmed_at is not None


def test_each_reward_on_the_advocate_page_says_why_it_was_paid(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = factory.campaign(status="live", slug="deep", name="Deep", reward_depth=2)
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 5})
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 10})
    add_rule(campaign, {"milestone": 1, "level": 0, "reward": "points", "amount": 50})
    add_rule(campaign, {"event": "purchase", "level": 2, "reward": "points", "amount": 7})
    ada = join(campaign, "ada@example.com", "Ada Lovelace")
    grace = join(campaign, "grace@example.com", "Grace Hopper", ada.referral_code)
    alan = join(campaign, "alan@example.com", "Alan Turing", grace.referral_code)
    report_event(campaign, alan, "purchase", amount=1000, external_id="order-1")
    page = advocate_page(client, ada)
    assert "friend Grace H. confirmed" in page
    assert "milestone of 1 friend" in page
    assert "level 2 referral" in page
    assert "grace@example.com" not in page
    assert "for your own sign-up" in advocate_page(client, grace)


def test_a_journeys_gift_and_purchases_say_so_on_the_advocate_page(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.workspace(name="Bean Brothers")
    campaign = factory.campaign(brand, status="live", slug="beans", name="Beans")
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 3})
    add_rule(campaign, {"event": "purchase", "level": 1, "reward": "points", "amount": 4})
    ada = join(campaign, "ada@example.com", "Ada Lovelace")
    grace = join(campaign, "grace@example.com", "Grace Hopper", ada.referral_code)
    report_event(campaign, grace, "purchase", amount=900, external_id="order-9")
    assert grant(ada, campaign, "points", 20, "journey:1:1:1") is not None
    db.session.commit()
    page = advocate_page(client, ada)
    assert "a gift from Bean Brothers" in page
    assert "Grace H.: a purchase" in page
    assert "a purchase" in advocate_page(client, grace)


# --- a finished draw ---------------------------------------------------------------------------


def test_a_drawn_prize_draws_page_links_its_winners_and_its_check(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = publish_campaign(
        factory.campaign(kind="lottery", slug="bikes", settings={"rules": dict(LOTTERY_RULES)})
    )
    for n in range(3):
        join(campaign, f"p{n}@example.org", f"Person {n}")
    close_campaign(campaign)
    page = text_of(client.get("/c/bikes"))
    assert "/draws/" not in page  # closed, not drawn yet
    draw = draws.run_draw(campaign, 1, 1)
    page = text_of(client.get("/c/bikes"))
    assert f'href="/draws/{draw.id}/verify"' in page
    assert f'href="/draws/{draw.id}/verify#winners"' not in page  # not published yet
    assert 'href="/c/bikes/rules"' in page
    draws.publish_results(draw)
    page = text_of(client.get("/c/bikes"))
    assert f'href="/draws/{draw.id}/verify#winners"' in page
    verify = text_of(client.get(f"/draws/{draw.id}/verify"))
    assert '<h3 id="winners">Winners</h3>' in verify
    rules = text_of(client.get("/c/bikes/rules"))
    assert f'href="/draws/{draw.id}/verify#winners"' in rules


# --- the printed card, times ------------------------------------------------------------------


def test_the_printed_card_carries_the_reward_disclosure(
    client: FlaskClient, live: Campaign
) -> None:
    ada = join(live, "ada@example.com", "Ada Lovelace")
    card = text_of(client.get(f"/q/{ada.referral_code}/card"))
    assert "I get a reward if you join." in card
    de = text_of(client.get(f"/q/{ada.referral_code}/card?lang=de"))
    assert "I get a reward if you join." not in de  # said in the reader's language


def test_times_on_public_and_admin_pages_say_their_zone(
    client: FlaskClient, factory: Factory, login_as: Any
) -> None:
    starts = datetime(2031, 5, 1, 9, 30, tzinfo=UTC)
    _marketer, workspace = login_as("owner")
    factory.campaign(workspace, status="live", slug="later", name="Later", starts_at=starts)
    page = text_of(client.get("/c/later"))
    assert "It opens on May 1, 2031, 9:30:00\u202fAM UTC." in page
    page = text_of(client.get("/c/later?lang=de"))
    assert "01.05.2031, 09:30:00 UTC" in page
    admin = text_of(client.get("/admin/campaigns?lang=en"))
    assert re.search(r"\d{4}, \d{1,2}:\d{2}:\d{2}\s[AP]M UTC", admin), admin
