"""The referral-link cookies: signed values that older (compressed) versions can still be
read from (the Set-Cookie header the fast path writes: tests/unit/test_link_cookies.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from itsdangerous import URLSafeSerializer

from referral.public.cookies import SALT, Touch, Touches


def test_a_touch_cookie_round_trips_and_an_older_compressed_one_still_loads(app: Flask) -> None:
    touch = Touch("AbCdEfGh", datetime(2026, 11, 1, 12, tzinfo=UTC), "qr", {"utm_source": "x"})
    with app.test_request_context():
        touches = Touches({})
        touches.add(7, touch, 30)
        value = touches.dumps()
        assert not value.startswith(".")  # never compressed
        assert Touches.from_cookie(value).get(7) == touch

        data = {str(n): ["AbCdEfGh", 1_761_998_400.0, "link", {}] for n in range(10)}
        old = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps(data)
        assert old.startswith(".")  # what the previous version wrote: zlib-compressed
        assert Touches.from_cookie(old).get(3) is not None
        assert Touches.from_cookie(old[:-2] + "xx").entries == {}  # a bad signature reads empty
