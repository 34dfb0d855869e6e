"""The Idempotency-Key header as a pure rule: 1 to 255 printable ASCII characters. No app,
no database. The API naming the header in its 422: tests/web/test_api_idempotency.py."""

from __future__ import annotations

import pytest

from referral.api.guard import HEADER, _checked_key
from referral.domain.errors import ValidationFailed


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "caf\u00e9", "tab\there", "new\nline", "\x00", "\u2003em-space"],
    ids=["empty", "256 characters", "not ascii", "a tab", "a newline", "NUL", "unicode space"],
)
def test_an_unusable_key_is_refused_on_the_header(key: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _checked_key(key)
    assert list(refused.value.errors) == [HEADER]


@pytest.mark.parametrize(
    "key", ["be01123f-88d0-4461-ac58-ed517074eaf4", "x" * 255, "k", "order-2026/03 #7"]
)
def test_a_usable_key_is_kept_as_it_is(key: str) -> None:
    assert _checked_key(key) == key
