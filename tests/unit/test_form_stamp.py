"""The join form's time stamp as a pure rule: a signed record of which campaign's form was
shown and when; anything missing, forged, of another campaign or a day old has no age. A bare
Flask app is enough: no database, no routes. The page refusing it: tests/web/test_join_flow.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from referral.public.join import MAX_FORM_AGE, STAMP_SALT, form_stamp, stamp_age


@pytest.fixture(autouse=True)
def form_app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit")
    with app.app_context():
        yield app


BAD_STAMPS = {
    "missing": lambda: None,
    "empty": lambda: "",
    "garbage": lambda: "garbage",
    "forged": lambda: "WzEsMTAwMF0.forged",
    "another campaign's": lambda: form_stamp(8, time.time() - 60),
    "a day old": lambda: form_stamp(7, time.time() - MAX_FORM_AGE - 60),
    "signed with another key": lambda: URLSafeSerializer("not-ours", salt=STAMP_SALT).dumps(
        [7, int(time.time() * 1000)]
    ),
    "signed for another purpose": lambda: URLSafeSerializer("unit", salt="other").dumps(
        [7, int(time.time() * 1000)]
    ),
    "not a pair": lambda: URLSafeSerializer("unit", salt=STAMP_SALT).dumps("7"),
    "not a time": lambda: URLSafeSerializer("unit", salt=STAMP_SALT).dumps([7, "soon"]),
}


@pytest.mark.parametrize("kind", list(BAD_STAMPS))
def test_a_missing_forged_foreign_or_stale_stamp_has_no_age(kind: str) -> None:
    stamp: Any = BAD_STAMPS[kind]()
    assert stamp_age(7, stamp) is None


def test_a_stamp_tells_how_long_ago_its_form_was_shown() -> None:
    age = stamp_age(7, form_stamp(7, time.time() - 10))
    assert age is not None and 9.5 < age < 12
    fresh = stamp_age(7, form_stamp(7))
    assert fresh is not None and 0 <= fresh < 2
