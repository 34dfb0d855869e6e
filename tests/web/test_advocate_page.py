"""The advocate's own page and the public leaderboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from referral.extensions import db
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services.advocates import SALT, advocate_token
from referral.services.clicks import record_click, resolve_code
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.factories import Factory


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="summer", name="Summer bikes")


def join(
    campaign: Campaign, email: str, name: str = "", code: str | None = None, confirmed: bool = False
) -> Participation:
    request = JoinRequest(email=email, name=name, referral_code=code, confirmed=confirmed)
    return join_campaign(campaign, request, Visitor()).participation


@pytest.fixture
def advocate(live: Campaign) -> Participation:
    return join(live, "ada@example.com", "Ada Lovelace", confirmed=True)


def page_of(client: FlaskClient, participation: Participation) -> str:
    response = client.get(f"/me/{advocate_token(participation)}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def friend_row(page: str, name: str) -> str:
    match = re.search(
        rf'<li class="friend [^"]*">\s*<span class="friend-name">{name}</span>'
        r"(.*?)</li>",
        page,
        re.S,
    )
    assert match, f"{name} is not listed"
    return match.group(0)


def test_the_advocate_page_lists_each_friend_with_the_reason_it_did_or_did_not_count(
    client: FlaskClient, live: Campaign, advocate: Participation, factory: Factory
) -> None:
    join(live, "grace@example.com", "Grace Hopper", advocate.referral_code, confirmed=True)
    join(live, "alan@example.com", "Alan Turing", advocate.referral_code)
    flagged = factory.participation(live, referrer=advocate, status="flagged")
    rejected = factory.participation(live, referrer=advocate, status="rejected")
    page = page_of(client, advocate)
    assert "reason-counted" in friend_row(page, "Grace") and "Counted" in friend_row(page, "Grace")
    assert "Waiting for them to confirm their e-mail" in friend_row(page, "Alan")
    assert "Under review" in page and "Not eligible" in page
    assert flagged.id and rejected.id
    assert "grace@example.com" not in page  # friends are shown by first name only
    assert re.search(r'class="stat-joined">4<', page)
    assert re.search(r'class="stat-confirmed">1<', page)


def test_the_advocate_page_counts_clicks_and_shows_the_link_qr_and_tagged_share_buttons(
    client: FlaskClient, advocate: Participation
) -> None:
    target = resolve_code(advocate.referral_code)
    assert target is not None
    for channel in ("link", "qr", "whatsapp"):
        record_click(target, channel)
    page = page_of(client, advocate)
    code = advocate.referral_code
    assert re.search(r'class="stat-clicks">3<', page)
    assert f"http://localhost/r/{code}" in page
    assert f'src="/q/{code}.png"' in page and f'href="/q/{code}/card"' in page
    assert "https://wa.me/?text=" in page and f"{code}%3Fch%3Dwhatsapp" in page
    assert "I get a reward if you join" in page
    assert 'href="/c/summer/leaderboard"' in page


def test_the_advocate_page_shows_rewards_points_badges_rank_and_progress(
    client: FlaskClient, live: Campaign, advocate: Participation
) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    add_rule(live, {"milestone": 2, "level": 0, "reward": "points", "amount": 500})
    join(live, "grace@example.com", "Grace Hopper", advocate.referral_code, confirmed=True)
    page = page_of(client, advocate)
    assert re.search(r'class="stat-points">100<', page)
    assert re.search(r'class="stat-rank">#1<', page)
    assert "First friend" in page
    # the bar starts afresh at each step: the badge at 1 was the last, the milestone at 2 is next
    assert '<progress id="milestone-progress" max="100" value="0">' in page
    assert "1 more confirmed friend to reach 2." in page
    assert "100 points" in page
    join(live, "alan@example.com", "Alan Turing", advocate.referral_code, confirmed=True)
    page = page_of(client, advocate)
    assert re.search(r'class="stat-points">700<', page)
    assert "500 points" in page


def test_a_pending_advocate_is_asked_to_confirm_first(client: FlaskClient, live: Campaign) -> None:
    pending = join(live, "new@example.com")
    assert "Please confirm your e-mail address first" in page_of(client, pending)
    confirm_participation(pending)
    assert "Please confirm your e-mail address first" not in page_of(client, pending)


def test_the_advocate_page_is_kept_out_of_caches_and_search_engines(
    client: FlaskClient, advocate: Participation
) -> None:
    response = client.get(f"/me/{advocate_token(advocate)}")
    assert "no-store" in response.headers["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in response.get_data(as_text=True)


def test_a_forged_advocate_token_is_a_404(
    app: Flask, client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    """Can anyone reach another advocate's page by changing or forging the link?"""
    other = join(live, "bob@example.com", "Bob", confirmed=True)
    real = advocate_token(advocate)
    forged_with_other_key = URLSafeSerializer("not-our-secret", salt=SALT).dumps(
        [other.id, other.referral_code]
    )
    mismatched = URLSafeSerializer(app.config["SECRET_KEY"], salt="another-purpose").dumps(
        [other.id, other.referral_code]
    )
    payload, signature = real.rsplit(".", 1)
    for token in (
        real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
        f"{payload}.{signature[::-1]}",
        forged_with_other_key,
        mismatched,
        "garbage",
        "x" * 500,
    ):
        response = client.get(f"/me/{token}")
        assert response.status_code == 404, token
        assert "Ada" not in response.get_data(as_text=True)


def test_a_rejected_advocate_has_no_page(
    client: FlaskClient, factory: Factory, live: Campaign
) -> None:
    rejected = factory.participation(live, status="rejected")
    assert client.get(f"/me/{advocate_token(rejected)}").status_code == 404


def test_the_leaderboard_masks_names_and_states_the_tie_break_rule(
    client: FlaskClient, live: Campaign, advocate: Participation, factory: Factory
) -> None:
    bob = join(live, "bob.builder@example.com", "Bob", confirmed=True)
    anonymous = join(live, "carla.secret@example.com", confirmed=True)
    for n in range(2):
        join(live, f"a{n}@example.com", code=advocate.referral_code, confirmed=True)
    join(live, "b0@example.com", code=bob.referral_code, confirmed=True)
    join(live, "c0@example.com", code=anonymous.referral_code, confirmed=True)
    response = client.get("/c/summer/leaderboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ada L." in page and "Lovelace" not in page
    assert "Bob" in page and "Bob B." not in page
    assert "c***@e***.com" in page and "carla.secret" not in page
    assert "example.com" not in page
    assert page.index("Ada L.") < page.index("Bob") < page.index("c***@e***.com")
    assert "On a tie, whoever reached that number first ranks higher" in page


def test_a_tie_on_the_leaderboard_goes_to_whoever_reached_the_number_first(
    client: FlaskClient, live: Campaign
) -> None:
    early = join(live, "early@example.com", "Early Bird", confirmed=True)
    late = join(live, "late@example.com", "Late Comer", confirmed=True)
    late_friend = join(live, "lf@example.com", code=late.referral_code)
    early_friend = join(live, "ef@example.com", code=early.referral_code)
    confirm_participation(late_friend)
    confirm_participation(early_friend)
    early_friend.confirmed_at = utcnow() + timedelta(minutes=1)
    db.session.commit()
    page = client.get("/c/summer/leaderboard").get_data(as_text=True)
    assert page.index("Late C.") < page.index("Early B.")


def test_an_empty_leaderboard_invites_people_to_start(client: FlaskClient, live: Campaign) -> None:
    assert "Nobody is on the board yet" in client.get("/c/summer/leaderboard").get_data(
        as_text=True
    )
