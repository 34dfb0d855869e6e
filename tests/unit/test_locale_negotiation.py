"""Locale negotiation as a pure rule: ``?lang=``, then the ``lang`` cookie, then the
browser's Accept-Language, Chinese mapped by region and script; and where the language switch
may send a person back to. A bare Flask app is enough: no database, no routes. The pages in
each language are in tests/web/test_i18n.py."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, g

from referral.config import LOCALES
from referral.i18n import canonical_locale, html_lang, select_locale
from referral.security import is_local_url


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(LANGUAGES=LOCALES, BABEL_DEFAULT_LOCALE="en")
    return app


def chosen(app: Flask, path: str = "/login", **kw: Any) -> str:
    with app.test_request_context(path, **kw):
        return select_locale()


@pytest.mark.parametrize(
    ("accept", "locale"),
    [
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant-TW", "zh_Hant"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("de-AT", "de"),
        ("nl-BE", "nl"),
        ("fr", "en"),
        ("fr-FR, de;q=0.5", "de"),
        ("", "en"),
    ],
)
def test_the_browsers_languages_choose_the_locale(app: Flask, accept: str, locale: str) -> None:
    assert chosen(app, headers={"Accept-Language": accept}) == locale


def test_lang_in_the_query_wins_and_is_to_be_remembered(app: Flask) -> None:
    with app.test_request_context("/login?lang=de", headers={"Accept-Language": "nl"}):
        assert select_locale() == "de"
        assert g.set_locale_cookie == "de"


def test_the_lang_cookie_wins_over_the_browsers_languages(app: Flask) -> None:
    headers = {"Accept-Language": "de", "Cookie": "lang=nl"}
    with app.test_request_context("/login", headers=headers):
        assert select_locale() == "nl"
        assert "set_locale_cookie" not in g


@pytest.mark.parametrize(
    ("path", "cookie"), [("/login?lang=xx", ""), ("/login", "lang=xx"), ("/login?lang=", "")]
)
def test_an_unknown_lang_in_the_query_or_the_cookie_is_ignored(
    app: Flask, path: str, cookie: str
) -> None:
    headers = {"Accept-Language": "nl", **({"Cookie": cookie} if cookie else {})}
    with app.test_request_context(path, headers=headers):
        assert select_locale() == "nl"
        assert "set_locale_cookie" not in g


@pytest.mark.parametrize(
    ("tag", "locale"),
    [("zh_Hant", "zh_Hant"), ("ZH-hk", "zh_Hant"), ("de-AT", "de"), ("NL", "nl"),
     ("xx", None), ("", None), (None, None)],
)  # fmt: skip
def test_a_language_tag_maps_to_one_of_our_locales_or_none(
    app: Flask, tag: str | None, locale: str | None
) -> None:
    with app.app_context():
        assert canonical_locale(tag) == locale


def test_the_html_lang_of_a_locale_is_its_bcp_47_tag() -> None:
    assert [html_lang(loc) for loc in LOCALES] == ["en", "de", "nl", "zh-Hans", "zh-Hant"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_the_language_switch_goes_back_only_to_a_page_of_this_site(target: str) -> None:
    assert not is_local_url(target)
    assert is_local_url("/login?next=/admin/")
