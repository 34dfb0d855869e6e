"""The referral-link cookie as the fast path writes it: the same bytes werkzeug would write."""

from __future__ import annotations

import time

from werkzeug.http import dump_cookie

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
