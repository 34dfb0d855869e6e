"""What an advocate's page and the public leaderboard hold, asked of the advocates service:
each friend and why they did or did not count, clicks, points, rank, badges and the next
milestone, the signed page address, and the leaderboard's masked names and tie-break. The
pages themselves (HTML, caching, 404s) are in tests/web/test_advocate_page.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from referral.domain.errors import NotFound
from referral.extensions import db
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services.advocates import (
    SALT,
    advocate_token,
    advocate_view,
    from_token,
    leaderboard,
    public_name,
    rank_of,
    referral_url,
)
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


# --- the advocate's friends ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "counted", "reason"),
    [
        ("confirmed", True, "counted"),
        ("pending", False, "waiting_for_confirmation"),
        # flagged before confirming: waiting for the confirmation first (and under review)
        ("flagged", False, "waiting_for_confirmation"),
        ("rejected", False, "not_eligible"),
    ],
)
def test_each_friend_says_whether_and_why_they_counted(
    live: Campaign, advocate: Participation, factory: Factory, status: str, counted: bool,
    reason: str,
) -> None:  # fmt: skip
    stamp = {"confirmed_at": utcnow()} if status == "confirmed" else {}
    factory.participation(live, referrer=advocate, status=status, **stamp)
    [friend] = advocate_view(advocate)["friends"]
    assert (friend.status, friend.counted, friend.reason) == (status, counted, reason)


def test_friends_are_shown_by_first_name_only_and_counted_joined_and_confirmed(
    live: Campaign, advocate: Participation, factory: Factory
) -> None:
    join(live, "grace@example.com", "Grace Hopper", advocate.referral_code, confirmed=True)
    join(live, "alan@example.com", "Alan Turing", advocate.referral_code)
    factory.participation(live, referrer=advocate, status="flagged")
    factory.participation(live, referrer=advocate, status="rejected")
    view = advocate_view(advocate)
    names = [f.name for f in view["friends"]]
    assert names[-2:] == ["Alan", "Grace"]  # newest first
    assert not any("@example.com" in name or "Hopper" in name for name in names)
    assert [f.reason for f in view["friends"]][-2:] == ["waiting_for_confirmation", "counted"]
    assert (view["joined"], view["confirmed"]) == (4, 1)


def test_a_friend_without_a_name_is_shown_by_a_masked_address(
    live: Campaign, advocate: Participation
) -> None:
    join(live, "grace.hopper@example.com", code=advocate.referral_code)
    [friend] = advocate_view(advocate)["friends"]
    assert friend.name == "g***@e***.com"


def test_the_view_counts_the_advocates_clicks_and_gives_their_link(
    app: Flask, advocate: Participation
) -> None:
    target = resolve_code(advocate.referral_code)
    assert target is not None
    for channel in ("link", "qr", "whatsapp"):
        record_click(target, channel)
    view = advocate_view(advocate)
    assert view["clicks"] == 3
    assert view["referral_url"] == f"http://localhost/r/{advocate.referral_code}"
    app.config["PUBLIC_BASE_URL"] = "https://refer.example.com"
    assert referral_url(advocate) == f"https://refer.example.com/r/{advocate.referral_code}"


# --- rewards, rank, badges and the next milestone ------------------------------------------


def test_points_rank_badges_and_progress_follow_the_confirmed_friends(
    live: Campaign, advocate: Participation
) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    add_rule(live, {"milestone": 2, "level": 0, "reward": "points", "amount": 500})
    join(live, "grace@example.com", "Grace Hopper", advocate.referral_code, confirmed=True)
    view = advocate_view(advocate)
    assert (view["points"], view["rank"]) == (100, 1)
    assert [e.amount for e in view["rewards"]] == [100]
    progress = view["progress"]
    assert progress.badges == ["first_friend"]
    # the bar starts afresh at each step: the badge at 1 was the last, the milestone at 2 next
    assert (progress.next_target, progress.remaining, progress.percent) == (2, 1, 0)
    join(live, "alan@example.com", "Alan Turing", advocate.referral_code, confirmed=True)
    view = advocate_view(advocate)
    assert view["points"] == 700
    assert [e.amount for e in view["rewards"]] == [500, 100, 100]  # newest first
    assert (view["progress"].next_target, view["progress"].remaining) == (3, 1)


def test_an_advocate_without_a_confirmed_friend_has_no_rank(
    live: Campaign, advocate: Participation
) -> None:
    join(live, "alan@example.com", "Alan Turing", advocate.referral_code)
    view = advocate_view(advocate)
    assert (view["rank"], view["points"], view["progress"].badges) == (None, 0, [])
    assert rank_of(advocate, 0) is None


def test_the_rank_follows_the_leaderboards_order(live: Campaign, advocate: Participation) -> None:
    bob = join(live, "bob@example.com", "Bob", confirmed=True)
    for n in range(2):
        join(live, f"b{n}@example.com", code=bob.referral_code, confirmed=True)
    join(live, "a0@example.com", code=advocate.referral_code, confirmed=True)
    assert (advocate_view(bob)["rank"], advocate_view(advocate)["rank"]) == (1, 2)
    assert [row["participation_id"] for row in advocate_view(advocate)["leaderboard"]] == [
        bob.id,
        advocate.id,
    ]


# --- the signed page address ---------------------------------------------------------------


def test_the_page_token_names_the_advocate(advocate: Participation) -> None:
    assert from_token(advocate_token(advocate)).id == advocate.id


def test_a_forged_or_altered_page_token_names_nobody(
    app: Flask, live: Campaign, advocate: Participation
) -> None:
    """Can anyone reach another advocate's page by changing or forging the link?"""
    other = join(live, "bob@example.com", "Bob", confirmed=True)
    real = advocate_token(advocate)
    payload, signature = real.rsplit(".", 1)
    forged = (
        real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
        f"{payload}.{signature[::-1]}",
        URLSafeSerializer("not-our-secret", salt=SALT).dumps([other.id, other.referral_code]),
        URLSafeSerializer(app.config["SECRET_KEY"], salt="another-purpose").dumps(
            [other.id, other.referral_code]
        ),
        URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps([other.id, "WRONGCODE"]),
        "garbage",
        "x" * 500,
    )
    for token in forged:
        with pytest.raises(NotFound):
            from_token(token)


def test_a_rejected_advocate_has_no_page(live: Campaign, factory: Factory) -> None:
    rejected = factory.participation(live, status="rejected")
    with pytest.raises(NotFound):
        from_token(advocate_token(rejected))


def test_a_pending_advocate_keeps_their_page_through_confirmation(live: Campaign) -> None:
    pending = join(live, "new@example.com")
    token = advocate_token(pending)
    assert from_token(token).status == "pending"
    confirm_participation(pending)
    assert from_token(token).status == "confirmed"


# --- the public leaderboard ----------------------------------------------------------------


# How a name is shown publicly: first name and last initial, or a masked address.
PUBLIC_NAMES = {
    "Ada Lovelace": "Ada L.",
    "Ada King Lovelace": "Ada L.",
    "Bob": "Bob",
    "": "c***@e***.com",
    "   ": "c***@e***.com",
}


@pytest.mark.parametrize("name", [*PUBLIC_NAMES, None])
def test_a_public_name_is_a_first_name_and_an_initial_or_a_masked_address(
    name: str | None,
) -> None:
    email = "carla.secret@example.com"
    assert public_name(name, email) == PUBLIC_NAMES[name or ""]


def three_on_the_board(live: Campaign, advocate: Participation) -> Participation:
    """Ada with two confirmed friends, Bob and Carla (no name) with one each; Carla's."""
    bob = join(live, "bob.builder@example.com", "Bob", confirmed=True)
    anonymous = join(live, "carla.secret@example.com", confirmed=True)
    for n in range(2):
        join(live, f"a{n}@example.com", code=advocate.referral_code, confirmed=True)
    join(live, "b0@example.com", code=bob.referral_code, confirmed=True)
    join(live, "c0@example.com", code=anonymous.referral_code, confirmed=True)
    return anonymous


def test_the_leaderboard_ranks_by_confirmed_friends_with_masked_names(
    live: Campaign, advocate: Participation
) -> None:
    anonymous = three_on_the_board(live, advocate)
    join(live, "c1@example.com", code=anonymous.referral_code)  # pending: not counted
    board = leaderboard(live)
    assert [(r["rank"], r["name"], r["confirmed"]) for r in board] == [
        (1, "Ada L.", 2),
        (2, "Bob", 1),
        (3, "c***@e***.com", 1),
    ]
    assert "example.com" not in str([r["name"] for r in board])


def test_a_tie_on_the_leaderboard_goes_to_whoever_reached_the_number_first(
    live: Campaign,
) -> None:
    early = join(live, "early@example.com", "Early Bird", confirmed=True)
    late = join(live, "late@example.com", "Late Comer", confirmed=True)
    late_friend = join(live, "lf@example.com", code=late.referral_code)
    early_friend = join(live, "ef@example.com", code=early.referral_code)
    confirm_participation(late_friend)
    confirm_participation(early_friend)
    early_friend.confirmed_at = utcnow() + timedelta(minutes=1)
    db.session.commit()
    assert [r["name"] for r in leaderboard(live)] == ["Late C.", "Early B."]
    assert (rank_of(late, 1), rank_of(early, 1)) == (1, 2)


def test_the_leaderboard_leaves_out_rejected_advocates_and_stops_at_its_limit(
    live: Campaign, factory: Factory
) -> None:
    cheat = factory.participation(live, status="rejected")
    factory.participation(live, referrer=cheat, status="confirmed", confirmed_at=utcnow())
    people = [join(live, f"p{n}@example.com", f"P{n}", confirmed=True) for n in range(3)]
    for person in people:
        join(live, f"f.{person.id}@example.com", code=person.referral_code, confirmed=True)
    assert [r["participation_id"] for r in leaderboard(live)] == [p.id for p in people]
    assert len(leaderboard(live, limit=2)) == 2


def test_an_empty_campaign_has_an_empty_leaderboard(
    live: Campaign, advocate: Participation
) -> None:
    assert leaderboard(live) == []
    assert advocate_view(advocate)["leaderboard"] == []
