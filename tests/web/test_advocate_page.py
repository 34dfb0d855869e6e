"""The advocate's own page and the public leaderboard."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from referral.models import Campaign, Participation
from referral.services.advocates import advocate_token
from referral.services.clicks import record_click, resolve_code
from referral.services.confirmation import confirm_participation
from referral.services.rules import add_rule
from tests.factories import Factory
from tests.services.test_advocates import join, three_on_the_board


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="summer", name="Summer bikes")


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


# Why each friend counted, the numbers, rank, badges and the leaderboard's order and names:
# tests/services/test_advocates.py. Here: the pages show them.


def test_the_advocate_page_shows_each_friends_reason_the_clicks_link_qr_and_share_buttons(
    client: FlaskClient, live: Campaign, advocate: Participation, factory: Factory
) -> None:
    join(live, "grace@example.com", "Grace Hopper", advocate.referral_code, confirmed=True)
    join(live, "alan@example.com", "Alan Turing", advocate.referral_code)
    factory.participation(live, referrer=advocate, status="flagged")
    factory.participation(live, referrer=advocate, status="rejected")
    target = resolve_code(advocate.referral_code)
    assert target is not None
    for channel in ("link", "qr", "whatsapp"):
        record_click(target, channel)
    response = client.get(f"/me/{advocate_token(advocate)}")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in page
    assert "reason-counted" in friend_row(page, "Grace") and "Counted" in friend_row(page, "Grace")
    assert "Waiting for them to confirm their e-mail" in friend_row(page, "Alan")
    assert "Under review" in page and "Not eligible" in page
    assert "grace@example.com" not in page  # friends are shown by first name only
    assert re.search(r'class="stat-joined">4<', page)
    assert re.search(r'class="stat-confirmed">1<', page)
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


def test_a_forged_advocate_token_or_a_rejected_advocate_is_a_404(
    client: FlaskClient, advocate: Participation, live: Campaign, factory: Factory
) -> None:
    """Every forged or altered token: tests/services/test_advocates.py."""
    real = advocate_token(advocate)
    rejected = factory.participation(live, status="rejected")
    for token in (real[:-2] + ("AA" if not real.endswith("AA") else "BB"), "x" * 500):
        response = client.get(f"/me/{token}")
        assert response.status_code == 404, token
        assert "Ada" not in response.get_data(as_text=True)
    assert client.get(f"/me/{advocate_token(rejected)}").status_code == 404


def test_the_leaderboard_masks_names_and_states_the_tie_break_rule(
    client: FlaskClient, live: Campaign, advocate: Participation
) -> None:
    empty = client.get("/c/summer/leaderboard").get_data(as_text=True)
    assert "Nobody is on the board yet" in empty
    three_on_the_board(live, advocate)
    response = client.get("/c/summer/leaderboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ada L." in page and "Lovelace" not in page
    assert "Bob" in page and "Bob B." not in page
    assert "c***@e***.com" in page and "carla.secret" not in page
    assert "example.com" not in page
    assert page.index("Ada L.") < page.index("Bob") < page.index("c***@e***.com")
    assert "On a tie, whoever reached that number first ranks higher" in page
    assert "Nobody is on the board yet" not in page
