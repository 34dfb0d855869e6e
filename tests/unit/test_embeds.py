"""The sites that may frame a campaign's widgets, and the embed script's integrity hash."""

from __future__ import annotations

import base64
import hashlib

import pytest

from referral import widget
from referral.domain.embeds import MAX_ORIGINS, clean_origins, frame_ancestors, origin_of
from referral.domain.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("HTTPS://Shop.Example.COM/", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("  https://xn--bcher-kva.example  ", "https://xn--bcher-kva.example"),
    ],
)
def test_a_site_address_is_kept_in_its_one_spelling(value: str, origin: str) -> None:
    assert origin_of(value) == origin


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "'self'",
        "null",
        "shop.example.com",
        "https://*.example.com",
        "https://shop.example.com/page",
        "https://shop.example.com?x=1",
        "https://shop.example.com#top",
        "https://user:pw@shop.example.com",
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://shop.example.com",
        "https://shop example.com",
        "https://shop.example.com:99999",
        "https://shop.example.com; script-src *",
        "https://-bad-.example.com",
        "https://" + "a" * 200 + ".com",
        "",
    ],
)
def test_anything_that_is_not_an_origin_is_refused(value: str) -> None:
    assert origin_of(value) is None


def test_the_allowed_list_drops_repeats_and_blank_lines_and_keeps_the_order() -> None:
    found = clean_origins(["https://b.example", "", "HTTPS://B.example/", "http://a.example"])
    assert found == ["https://b.example", "http://a.example"]


def test_the_allowed_list_names_every_value_that_is_not_an_origin() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_origins(["https://ok.example", "*", "https://x.example/path"])
    messages = caught.value.errors["origins"]
    assert len(messages) == 2
    assert "“*”" in messages[0] and "“https://x.example/path”" in messages[1]


def test_the_allowed_list_has_a_limit() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_origins([f"https://s{n}.example" for n in range(MAX_ORIGINS + 1)])
    assert "at most" in caught.value.errors["origins"][0]
    assert len(clean_origins([f"https://s{n}.example" for n in range(MAX_ORIGINS)])) == MAX_ORIGINS


def test_a_widget_may_always_be_framed_by_the_service_itself() -> None:
    assert frame_ancestors([]) == "'self'"
    assert frame_ancestors(["https://a.example", "http://b.example:81"]) == (
        "'self' https://a.example http://b.example:81"
    )


def test_the_published_integrity_hash_is_the_sha384_of_the_scripts_bytes() -> None:
    data = widget.SCRIPT.read_bytes()
    expected = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert widget.integrity() == expected
    assert widget.integrity(data + b" ") != expected


def test_the_script_is_small_our_own_and_checks_where_messages_come_from() -> None:
    text = widget.SCRIPT.read_text(encoding="utf-8")
    assert len(widget.script_bytes()) < 8_000
    assert widget.SANDBOX in text
    assert "event.origin !== service" in text
    assert "event.source !== item.frame.contentWindow" in text
    assert "http" not in text.replace("https://", "").split("*/", 1)[1]  # loads nothing else


def test_the_snippet_names_the_script_its_hash_and_the_campaign() -> None:
    snippet = widget.snippet("https://refer.example", "bikes", "leaderboard")
    assert f'integrity="{widget.integrity()}"' in snippet
    assert 'src="https://refer.example/w/v1.js"' in snippet
    assert 'crossorigin="anonymous"' in snippet
    assert '<div data-referral-widget="leaderboard" data-campaign="bikes"></div>' in snippet
