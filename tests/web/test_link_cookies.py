"""The referral-link cookies as the fast path writes them: the same bytes werkzeug would
write, and signed values that older (compressed) versions can still be read from."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Flask
from itsdangerous import URLSafeSerializer
from werkzeug.http import dump_cookie

from referral.public.cookies import SALT, Touch, Touches
from referral.public.fastpath import _set_cookie


def test_the_fast_path_writes_the_set_cookie_header_werkzeug_would() -> None:
    now = int(time.time())
    for secure in (True, False):
        ours = _set_cookie("ref", "eyJhIjoxfQ.abc-_", 30 * 86_400, secure, now)
        theirs = dump_cookie(
            "ref",
            "eyJhIjoxfQ.abc-_",
            max_age=30 * 86_400,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
        # dump_cookie reads the clock itself: compare all but the date if a second passed.
        assert ours.split("; Expires=")[0] == theirs.split("; Expires=")[0]
        assert ours.split("GMT")[1] == theirs.split("GMT")[1]


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
