"""What a click on a referral link records, and whom a sign-up is credited to, asked of the
services directly. The HTTP side (redirects, cookies, the landing page's ``?ref=``, QR
images) is in tests/web/test_links_and_qr.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from referral import qr
from referral.extensions import db
from referral.models import Campaign, Click, Participation
from referral.models.base import utcnow
from referral.services.clicks import forget_codes, record_click, resolve_code
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="summer", attribution_days=30)


@pytest.fixture
def advocate(factory: Factory, live: Campaign) -> Participation:
    """A confirmed participant whose link is shared."""
    return factory.participation(live, status="confirmed", confirmed_at=utcnow())


def clicks() -> list[Click]:
    db.session.expire_all()
    return list(db.session.scalars(select(Click).order_by(Click.id)))


def click(code: str, channel: str = "", **utm: str) -> None:
    target = resolve_code(code)
    assert target is not None and target.public
    record_click(target, channel, utm)


@pytest.mark.parametrize(
    ("ch", "channel"),
    [
        ("qr", "qr"),
        ("whatsapp", "whatsapp"),
        ("email", "email"),
        ("x", "x"),
        ("line", "line"),
        ("wechat", "wechat"),
        ("copy", "copy"),
        ("QR", "qr"),
        ("myspace", "link"),
        ("", "link"),
        ("x" * 500, "link"),
    ],
)
def test_the_channel_comes_from_a_whitelist(advocate: Participation, ch: str, channel: str) -> None:
    click(advocate.referral_code, ch)
    assert [c.channel for c in clicks()] == [channel]


def test_utm_parameters_are_kept_trimmed_and_other_parameters_dropped(
    advocate: Participation,
) -> None:
    query = {
        "utm_source": "newsletter",
        "utm_campaign": "spring",
        "utm_medium": "m" * 300,
        "next": "https://evil.example",
        "gclid": "abc",
    }
    click(advocate.referral_code, "link", **query)
    [logged] = clicks()
    assert logged.utm == {
        "utm_source": "newsletter",
        "utm_campaign": "spring",
        "utm_medium": "m" * 200,
    }


@pytest.mark.parametrize("code", ["ZZZZZZZZ", "not-a-code", "a" * 40])
def test_an_unknown_code_resolves_to_nothing(advocate: Participation, code: str) -> None:
    forget_codes()
    assert resolve_code(code) is None


def test_a_code_of_a_draft_campaign_is_not_public(factory: Factory) -> None:
    owner = factory.participation(factory.campaign(status="draft"))
    forget_codes()
    target = resolve_code(owner.referral_code)
    assert target is not None and not target.public


@pytest.mark.parametrize(("days_ago", "referred"), [(31, False), (29, True)])
def test_a_touch_refers_only_inside_the_attribution_window_with_its_channel_and_utm(
    advocate: Participation, live: Campaign, days_ago: int, referred: bool
) -> None:
    friend = join_campaign(
        live,
        JoinRequest(
            email="friend@example.com",
            referral_code=advocate.referral_code,
            touched_at=utcnow() - timedelta(days=days_ago),
            channel="whatsapp",
            utm={"utm_source": "group"},
        ),
    ).participation
    if referred:
        assert (friend.referrer_id, friend.referral_status) == (advocate.id, "referred")
        assert (friend.channel, friend.utm) == ("whatsapp", {"utm_source": "group"})
    else:
        assert (friend.referrer_id, friend.referral_status) == (None, "expired")
        assert friend.channel == "direct"


def test_joining_again_through_ones_own_link_from_the_same_browser_is_a_self_referral(
    live: Campaign,
) -> None:
    browser = Visitor(visitor_id="the-same-browser")
    me = join_campaign(live, JoinRequest(email="me@example.com"), browser).participation
    again = JoinRequest(
        email="my.other.address@example.com", referral_code=me.referral_code, touched_at=utcnow()
    )
    second = join_campaign(live, again, browser).participation
    assert (second.referrer_id, second.referral_status) == (None, "self_referral")


def test_the_click_table_is_indexed_for_the_lookups_it_serves(app: Flask) -> None:
    indexed = {tuple(i["column_names"]) for i in inspect(db.engine).get_indexes("clicks")}
    assert ("participation_id",) in indexed
    uniques = inspect(db.engine).get_unique_constraints("participations")
    unique_code = any(u["column_names"] == ["referral_code"] for u in uniques)
    code_index = any(
        i["column_names"] == ["referral_code"] and i["unique"]
        for i in inspect(db.engine).get_indexes("participations")
    )
    assert unique_code or code_index


def test_qr_images_are_rendered_once_per_content(advocate: Participation) -> None:
    url = f"http://localhost/r/{advocate.referral_code}?ch=qr"
    qr.png(url)
    hits = qr.png.cache_info().hits
    assert qr.png(url) == qr.png(url)
    assert qr.png.cache_info().hits == hits + 2
    assert qr.png.cache_info().maxsize == qr.CACHE_SIZE
