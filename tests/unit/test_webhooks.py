"""Webhooks' pure rules: the signature, the retry schedule and the endpoint address."""

from __future__ import annotations

import pytest

from referral.domain import webhooks as domain
from referral.domain.errors import ValidationFailed


def test_a_signature_verifies_only_with_the_secret_the_body_and_a_fresh_time() -> None:
    header = domain.signature("whsec_a", 1_700_000_000, b'{"x":1}')
    assert domain.verify_signature("whsec_a", header, b'{"x":1}', now=1_700_000_010)
    assert not domain.verify_signature("whsec_b", header, b'{"x":1}', now=1_700_000_010)
    assert not domain.verify_signature("whsec_a", header, b'{"x":2}', now=1_700_000_010)
    assert not domain.verify_signature("whsec_a", header, b'{"x":1}', now=1_700_001_000)
    assert not domain.verify_signature("whsec_a", "t=abc,v1=00", b"", now=0)


def test_the_retry_schedule_grows_and_ends() -> None:
    delays = [domain.retry_delay(n) for n in range(1, domain.MAX_ATTEMPTS + 1)]
    assert delays[:-1] == sorted(delays[:-1]) and all(d and d > 0 for d in delays[:-1])
    assert delays[-1] is None


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://shop.example.com/hooks", True),
        ("http://127.0.0.1:8080/x", True),
        ("ftp://example.com/x", False),
        ("https://user:pw@example.com/x", False),
        ("https:///nohost", False),
        ("https://example.com:notaport/", False),
        ("https://[::1/", False),
        ("", False),
        ("https://example.com/" + "x" * 600, False),
    ],
)
def test_webhook_addresses_are_checked(url: str, accepted: bool) -> None:
    if accepted:
        assert domain.check_url(url) == url
    else:
        with pytest.raises(ValidationFailed) as caught:
            domain.check_url(url)
        assert "url" in caught.value.messages
