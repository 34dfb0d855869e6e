"""The landing page's join form, its guards, and the double opt-in confirmation."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from referral.extensions import db
from referral.models import (
    Campaign,
    ConfirmationToken,
    ConsentRecord,
    Customer,
    Event,
    OutboxMessage,
    Participation,
)
from referral.models.base import utcnow
from referral.public.join import form_stamp
from referral.security import hash_ip
from tests.conftest import csrf_from
from tests.factories import Factory
from tests.web.conftest import IP, join_through_form

CONFIRM_LINK = re.compile(r"http://localhost(/confirm/[A-Za-z0-9_\-]+)")


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="summer", name="Summer & friends")


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def nothing_stored() -> bool:
    return not any(count(m) for m in (Customer, Participation, ConsentRecord, OutboxMessage))


def confirmation_path(to: str | None = None) -> str:
    """The /confirm/ link of the newest confirmation e-mail (to ``to``)."""
    query = select(OutboxMessage).where(OutboxMessage.kind == "confirmation")
    if to:
        query = query.where(OutboxMessage.to_address == to)
    message = db.session.scalars(query.order_by(OutboxMessage.id.desc())).first()
    assert message is not None, "no confirmation e-mail in the outbox"
    match = CONFIRM_LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1)


def consent_label(page: str) -> str:
    match = re.search(r'<input[^>]*name="consent"[^>]*>\s*<span>(.*?)</span>', page, re.S)
    assert match, "no consent box"
    return html.unescape(match.group(1))


# --- the form ----------------------------------------------------------------------------------


def test_the_landing_page_shows_a_short_form_with_an_unticked_consent_box(
    client: FlaskClient, live: Campaign
) -> None:
    page = client.get("/c/summer").get_data(as_text=True)
    assert 'name="email"' in page and 'name="name"' in page
    consent = re.search(r'<input[^>]*name="consent"[^>]*>', page)
    assert consent and "checked" not in consent.group(0)
    assert 'class="hp"' in page and 'name="website"' in page
    assert "landing.css" in page


def test_public_pages_have_no_inline_styles_or_scripts(client: FlaskClient, live: Campaign) -> None:
    """Would the CSP (default-src 'self') block anything on the landing page?"""
    page = client.get("/c/summer").get_data(as_text=True)
    assert " style=" not in page and "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)


def test_joining_stores_the_participation_the_exact_consent_and_queues_a_confirmation_link(
    client: FlaskClient, live: Campaign
) -> None:
    shown = consent_label(client.get("/c/summer").get_data(as_text=True))
    response = join_through_form(client, live, "Anna@Example.com", name="Anna")
    assert response.status_code == 303
    assert response.headers["Location"] == "/c/summer/joined"
    participation = db.session.scalars(select(Participation)).one()
    assert participation.status == "pending"
    assert participation.ip_hash == hash_ip(IP)
    consent = db.session.scalars(select(ConsentRecord)).one()
    assert consent.text == shown
    assert "Summer & friends" in consent.text
    assert consent.version == "default-1-en"  # the standard sentence, in English
    assert consent.ip_hash == hash_ip(IP)
    assert consent.campaign_id == live.id
    assert consent.page.endswith("/c/summer")
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.to_address == "anna@example.com"
    assert message.status == "queued"  # the request only queues; the mail worker delivers
    assert "/confirm/" in message.body_text and "/confirm/" in message.body_html
    assert "Anna" in message.body_text
    inbox = client.get("/c/summer/joined").get_data(as_text=True)
    assert "Check your inbox" in inbox


def test_a_campaigns_own_consent_text_and_version_are_stored(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = factory.campaign(
        status="live",
        settings={"consent_text": "Yes, mail me about bikes.", "consent_version": "2026-03"},
    )
    assert consent_label(client.get(f"/c/{campaign.slug}").get_data(as_text=True)) == (
        "Yes, mail me about bikes."
    )
    assert join_through_form(client, campaign).status_code == 303
    consent = db.session.scalars(select(ConsentRecord)).one()
    assert (consent.text, consent.version) == ("Yes, mail me about bikes.", "2026-03")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # One refusal of the form, one of the address; the others: tests/unit/test_forms.py
        # and tests/unit/test_emails.py.
        ({"consent": None}, "consent", "Please tick the box to agree."),
        ({"email": "anna@"}, "email", "This does not look like an e-mail address."),
    ],
)
def test_an_invalid_form_is_shown_again_with_422_and_stores_nothing(
    client: FlaskClient, live: Campaign, fields: dict[str, Any], field: str, message: str
) -> None:
    response = join_through_form(client, live, **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error"[^>]*>(.*?)</p>', page)
    assert error and message in html.unescape(error.group(1))
    assert f'aria-describedby="{field}-error"' in page
    assert nothing_stored()


def test_a_disposable_address_is_refused_next_to_the_field_when_the_campaign_blocks_them(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = factory.campaign(status="live", settings={"disposable_email": "block"})
    response = join_through_form(client, campaign, "someone@mailinator.com")
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert nothing_stored()


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(
    client: FlaskClient, live: Campaign
) -> None:
    response = join_through_form(client, live, website="http://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"] == "/c/summer/joined"
    assert nothing_stored()


def test_a_form_sent_faster_than_two_seconds_is_shown_again_and_stores_nothing(
    client: FlaskClient, live: Campaign
) -> None:
    response = join_through_form(client, live, seconds_on_page=0.3)
    assert response.status_code == 422
    assert "That was very quick!" in response.get_data(as_text=True)
    assert nothing_stored()


# Every missing, forged, foreign or stale stamp: tests/unit/test_form_stamp.py.
@pytest.mark.parametrize("stamp", ["WzEsMTAwMF0.forged"])
def test_a_missing_or_forged_time_stamp_is_refused(
    client: FlaskClient, live: Campaign, stamp: str
) -> None:
    response = join_through_form(client, live, started=stamp)
    assert response.status_code == 422
    assert "The form expired" in response.get_data(as_text=True)
    assert nothing_stored()


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, live: Campaign) -> None:
    data = {"email": "anna@example.com", "consent": "y", "started": form_stamp(live.id, 0)}
    response = client.post("/c/summer", data=data)
    assert response.status_code == 400
    assert nothing_stored()


def test_too_many_sign_ups_from_one_address_answer_429_with_retry_after(
    app: Flask, client: FlaskClient, live: Campaign
) -> None:
    app.config["JOIN_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        assert join_through_form(client, live, f"p{n}@example.com").status_code == 303
    response = join_through_form(client, live, "p4@example.com")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many requests" in response.get_data(as_text=True)
    assert count(Participation) == 3
    other_address = join_through_form(client, live, "p5@example.com", ip="198.51.100.9")
    assert other_address.status_code == 303


def test_too_many_sign_ups_for_one_campaign_answer_429_from_any_address(
    app: Flask, client: FlaskClient, live: Campaign, factory: Factory
) -> None:
    app.config["JOIN_CAMPAIGN_RATE_LIMIT"] = "2 per minute"
    for n in range(2):
        response = join_through_form(client, live, f"p{n}@example.com", ip=f"198.51.100.{n}")
        assert response.status_code == 303
    assert join_through_form(client, live, "p9@example.com", ip="198.51.100.99").status_code == 429
    other = factory.campaign(status="live")
    assert join_through_form(client, other, "p9@example.com", ip="198.51.100.99").status_code == 303


def test_reading_the_landing_page_is_not_rate_limited(
    app: Flask, client: FlaskClient, live: Campaign
) -> None:
    app.config["JOIN_RATE_LIMIT"] = "1 per minute"
    assert all(client.get("/c/summer").status_code == 200 for _ in range(5))


def test_a_draft_campaign_is_not_found(client: FlaskClient, factory: Factory) -> None:
    draft = factory.campaign(status="draft", slug="secret-plans")
    assert client.get("/c/secret-plans").status_code == 404
    assert client.post("/c/secret-plans", data={}).status_code in (400, 404)
    assert client.get("/c/no-such-campaign").status_code == 404
    assert client.get(f"/c/{draft.slug}/leaderboard").status_code == 404
    assert nothing_stored()


def test_a_closed_campaign_shows_a_friendly_page_without_a_form(
    client: FlaskClient, factory: Factory
) -> None:
    closed = factory.campaign(status="closed", slug="winter")
    response = client.get("/c/winter")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "has ended" in page and "<form" not in page.split("<main", 1)[1]
    assert closed.name in page


def test_a_campaign_past_its_end_date_shows_the_ended_page(
    client: FlaskClient, factory: Factory
) -> None:
    factory.campaign(
        status="live",
        slug="past",
        ends_at=utcnow() - timedelta(days=1),
        starts_at=utcnow() - timedelta(days=10),
    )
    page = client.get("/c/past").get_data(as_text=True)
    assert "has ended" in page and 'name="email"' not in page


def test_a_campaign_that_has_not_started_says_when_it_opens(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = factory.campaign(status="live", starts_at=utcnow() + timedelta(days=3))
    page = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "has not started yet" in page and 'name="email"' not in page


def test_sending_the_form_after_the_campaign_closed_stores_nothing(
    client: FlaskClient, live: Campaign
) -> None:
    shown = client.get("/c/summer").get_data(as_text=True)
    live.status = "closed"
    db.session.commit()
    data = {
        "csrf_token": csrf_from(shown),
        "email": "a@example.com",
        "consent": "y",
        "started": form_stamp(live.id, time.time() - 10),
    }
    response = client.post("/c/summer", data=data)
    assert response.status_code == 409
    assert "has ended" in response.get_data(as_text=True)
    assert nothing_stored()


# --- known addresses ---------------------------------------------------------------------------


def test_joining_again_with_a_pending_address_reveals_nothing_and_sends_a_fresh_link(
    client: FlaskClient, live: Campaign
) -> None:
    first = join_through_form(client, live, "anna@example.com")
    again = join_through_form(client, live, "ANNA@example.com")
    assert (again.status_code, again.headers["Location"]) == (
        first.status_code,
        first.headers["Location"],
    )
    assert count(Participation) == 1
    assert count(OutboxMessage) == 2
    assert count(ConfirmationToken) == 2
    assert count(ConsentRecord) == 1


# --- confirmation ------------------------------------------------------------------------------


def test_the_confirmation_link_works_once_and_then_shows_the_same_thank_you_page(
    client: FlaskClient, live: Campaign
) -> None:
    join_through_form(client, live, "anna@example.com")
    path = confirmation_path("anna@example.com")
    first = client.get(path)
    assert first.status_code == 200
    participation = db.session.scalars(select(Participation)).one()
    db.session.refresh(participation)
    assert participation.status == "confirmed"
    page = first.get_data(as_text=True)
    code = participation.referral_code
    assert f"http://localhost/r/{code}" in page
    assert f'src="/q/{code}.png"' in page
    for target in ("whatsapp", "email", "x", "line", "copy", "wechat"):
        assert f"ch%3D{target}" in page or f"ch={target}" in page, target
    assert "https://wa.me/?text=" in page
    assert "https://twitter.com/intent/tweet?text=" in page
    assert "https://social-plugins.line.me/lineit/share?url=" in page
    assert "mailto:?subject=" in page
    assert "I%20get%20a%20reward%20if%20you%20join" in page
    assert "I get a reward if you join" in page
    assert re.search(r'href="/me/[^"]+"', page)
    assert first.headers["Cache-Control"] == "no-store"

    second = client.get(path)
    assert second.status_code == 200
    assert second.get_data(as_text=True) == page
    confirmations = select(func.count()).where(Event.kind == "signup_confirmed")
    assert db.session.scalar(confirmations) == 1


def test_an_unknown_confirmation_token_is_a_404_page(client: FlaskClient, live: Campaign) -> None:
    response = client.get("/confirm/not-a-real-token")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_an_expired_confirmation_link_shows_a_friendly_page_that_offers_to_join_again(
    client: FlaskClient, live: Campaign
) -> None:
    join_through_form(client, live, "anna@example.com")
    db.session.execute(update(ConfirmationToken).values(expires_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    response = client.get(confirmation_path())
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "expired" in page and 'href="/c/summer"' in page
    assert db.session.scalars(select(Participation)).one().status == "pending"


def test_the_confirmation_email_is_written_in_the_language_the_person_joined_in(
    client: FlaskClient, live: Campaign
) -> None:
    join_through_form(client, live, "anna@example.com", page="/c/summer?lang=de")
    participation = db.session.scalars(select(Participation)).one()
    assert participation.locale == "de"
    message = db.session.scalars(select(OutboxMessage)).one()
    assert '<html lang="de">' in message.body_html
