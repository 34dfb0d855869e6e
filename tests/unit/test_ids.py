"""Ids in paths and cursors as a pure rule: the positive whole numbers a PostgreSQL INTEGER
key holds, written plainly; anything else names no row (and never reaches the database). The
API answering 404 for one: tests/web/test_api_participants.py."""

from __future__ import annotations

import pytest

from referral.services.ids import MAX_ID, parse_id


@pytest.mark.parametrize(
    "text",
    ["abc", "0", "-1", "+1", "01", "1.0", " 1", "1 ", "\u0661", "１", "", "99999999999999999999",
     str(MAX_ID + 1), "1e3", "0x10"],
)  # fmt: skip
def test_anything_but_a_plain_positive_integer_key_is_no_id(text: str) -> None:
    assert parse_id(text) is None


@pytest.mark.parametrize("text", ["1", "7", "999999", str(MAX_ID)])
def test_a_plain_positive_integer_key_is_its_id(text: str) -> None:
    assert parse_id(text) == int(text)
