"""The attribution cookie as a pure rule: the first touch of a campaign wins until its window
has passed, a tampered or malformed cookie reads as empty, and the cookie stays small by
letting the oldest touches go. A bare Flask app is enough: no database, no routes. The
referral link setting it and a sign-up reading it: tests/web/test_links_and_qr.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from referral.models.base import utcnow
from referral.public.cookies import (
    ATTRIBUTION_COOKIE,
    MAX_CAMPAIGNS,
    SALT,
    Touch,
    Touches,
)
from referral.services.clicks import UTM_KEYS

NOW = utcnow()


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit")
    with app.app_context():
        yield app


def test_a_touch_round_trips_through_the_cookie(app: Flask) -> None:
    touches = Touches({})
    assert touches.add(7, Touch("abcdEFGH", NOW, "whatsapp", {"utm_source": "group"}), 30)
    assert touches.changed
    found = Touches.from_cookie(touches.dumps()).get(7)
    assert found is not None
    assert (found.code, found.channel, found.utm) == (
        "abcdEFGH",
        "whatsapp",
        {"utm_source": "group"},
    )
    assert abs((found.at - NOW).total_seconds()) < 0.01


@pytest.mark.parametrize(("days", "replaced"), [(1, False), (30, False), (31, True)])
def test_the_first_touch_wins_until_its_window_has_passed(
    app: Flask, days: int, replaced: bool
) -> None:
    first = Touch("FIRST123", NOW - timedelta(days=days))
    touches = Touches({"7": first})
    later = Touch("LATER456", NOW, "qr")
    assert touches.add(7, later, window_days=30) is replaced
    assert touches.get(7) == (later if replaced else first)
    assert touches.changed is replaced


def test_a_touch_of_another_campaign_is_kept_beside(app: Flask) -> None:
    touches = Touches({"7": Touch("FIRST123", NOW)})
    assert touches.add(8, Touch("OTHER789", NOW), window_days=30)
    assert (touches.get(7).code, touches.get(8).code) == ("FIRST123", "OTHER789")  # type: ignore[union-attr]


FORGED = {
    "altered": lambda good: good[:-3] + "AAA",
    "signed with another key": lambda good: URLSafeSerializer("not-ours", salt=SALT).dumps(
        {"7": ["abcdEFGH", NOW.timestamp(), "link", {}]}
    ),
    "garbage": lambda good: "garbage",
    "not a mapping": lambda good: URLSafeSerializer("unit", salt=SALT).dumps(["abcdEFGH"]),
    "a malformed touch": lambda good: URLSafeSerializer("unit", salt=SALT).dumps(
        {"7": ["abcdEFGH", "yesterday", "link", {}]}
    ),
    "a time out of range": lambda good: URLSafeSerializer("unit", salt=SALT).dumps(
        {"7": ["abcdEFGH", 1e20, "link", {}]}
    ),
}


@pytest.mark.parametrize("kind", list(FORGED))
def test_a_tampered_or_malformed_cookie_reads_as_empty(app: Flask, kind: str) -> None:
    good = Touches({"7": Touch("abcdEFGH", NOW)}).dumps()
    assert Touches.from_cookie(good).get(7) is not None
    raw: Any = FORGED[kind](good)
    assert Touches.from_cookie(raw).get(7) is None


def test_the_attribution_cookie_stays_small_and_keeps_the_newest_touches(app: Flask) -> None:
    touches = Touches({})
    long_utm = {key: "v" * 200 for key in UTM_KEYS}
    for n in range(20):
        touch = Touch("abcdEFGH", utcnow() + timedelta(seconds=n), "link", long_utm)
        assert touches.add(n, touch, window_days=30)
    value = touches.dumps()
    assert len(value) <= 3500
    with app.test_request_context(headers={"Cookie": f"{ATTRIBUTION_COOKIE}={value}"}):
        kept = Touches.from_request()
    assert kept.get(19) is not None and kept.get(19).utm == long_utm  # type: ignore[union-attr]
    assert kept.get(0) is None


def test_at_most_so_many_campaigns_are_remembered_the_newest(app: Flask) -> None:
    touches = Touches({})
    for n in range(MAX_CAMPAIGNS + 3):
        touches.add(n, Touch("abcdEFGH", NOW + timedelta(seconds=n)), window_days=30)
    assert sorted(int(k) for k in touches.entries) == list(range(3, MAX_CAMPAIGNS + 3))
