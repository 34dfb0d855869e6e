"""Locale negotiation: ``?lang=``, then the ``lang`` cookie, then Accept-Language.

Babel's ``best_match`` does not know that a browser saying ``zh-TW`` wants Traditional
Chinese, so Chinese tags are mapped by region and script here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import current_app, g, request
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from referral.domain.campaign_content import Content, content_for

COOKIE = "lang"
TRADITIONAL_REGIONS = {"tw", "hk", "mo", "hant"}


def canonical_locale(tag: str | None) -> str | None:
    """Map a language tag to one of our locales, or None.

    ``zh-TW``/``zh-HK``/``zh-MO``/``zh-Hant*`` → ``zh_Hant``; any other ``zh`` → ``zh_Hans``;
    ``de-AT`` → ``de``. Unknown languages give None.
    """
    if not tag:
        return None
    parts = tag.replace("_", "-").lower().split("-")
    language = parts[0]
    if language == "zh":
        if any(p in TRADITIONAL_REGIONS for p in parts[1:]):
            return "zh_Hant"
        return "zh_Hans"
    known = {loc.lower(): loc for loc in current_app.config["LANGUAGES"]}
    return known.get(language)


def _from_accept_language() -> str | None:
    for tag, _quality in request.accept_languages:
        found = canonical_locale(tag)
        if found:
            return found
    return None


def select_locale() -> str:
    """The locale of this request (also remembered in ``g.locale_source`` for the cookie)."""
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = canonical_locale(request.args.get("lang"))
    if chosen:
        g.set_locale_cookie = chosen
        return chosen
    return (
        canonical_locale(request.cookies.get(COOKIE))
        or _from_accept_language()
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "nl": "Nederlands",
    "zh_Hans": "简体中文",
    "zh_Hant": "繁體中文",
}


def html_lang(locale: str) -> str:
    """BCP 47 tag for ``<html lang>``: ``zh_Hant`` → ``zh-Hant``."""
    return locale.replace("_", "-")


# Babel's short and medium formats of a moment leave the zone out; these get it added.
ZONELESS_FORMATS = ("short", "medium")


def datetime_with_zone(value: datetime | None, format: str | None = None) -> str:
    """``|datetimeformat`` that always says which zone a time is in: the short and medium
    formats (and none) get the zone's abbreviation ("Dec 7, 2026, 2:56:00 AM UTC"); long,
    full and explicit patterns are Babel's own."""
    if value is None:
        return ""
    shown = format_datetime(value, format)
    if format is None or format in ZONELESS_FORMATS:
        return f"{shown} {format_datetime(value, 'zzz')}"
    return shown


def campaign_words(campaign: Any) -> Content:
    """The campaign's name, description, benefit and consent sentence in this request's
    language, or in its default language when it has none in this one (``.fallback``)."""
    return content_for(
        campaign.name,
        campaign.description,
        campaign.locales,
        campaign.settings,
        str(get_locale() or "en"),
    )


def language_name(locale: str) -> str:
    """The name of ``locale``'s language in this request's language ("Engels" on a Dutch
    page for ``en``)."""
    try:
        return str(Locale.parse(locale).get_display_name(str(get_locale() or "en")))
    except (ValueError, UnknownLocaleError):
        return LANGUAGE_NAMES.get(locale, locale)


def init_app(app: Any) -> None:
    """Template globals every page needs: the language switch and translated labels, a
    campaign's words in the page's language (``words(campaign)``); and times with their
    zone (``|datetimeformat``)."""
    app.jinja_env.filters["datetimeformat"] = datetime_with_zone
    app.jinja_env.globals["words"] = campaign_words
    app.jinja_env.globals["language_name"] = language_name

    @app.context_processor
    def inject() -> dict[str, Any]:
        locale = str(get_locale() or "en")
        return {
            "current_locale": locale,
            "html_lang": html_lang(locale),
            "languages": LANGUAGE_NAMES,
            "kind_names": {
                "referral": _l("Referral / waitlist"),
                "lottery": _l("Prize draw"),
                "survey": _l("Survey with a prize"),
                "trial": _l("Free trial"),
                "instant_win": _l("Instant-win game"),
            },
            "status_names": {"draft": _l("Draft"), "live": _l("Live"), "closed": _l("Closed")},
            "role_names": {"owner": _l("Owner"), "editor": _l("Editor"), "viewer": _l("Viewer")},
            "reward_names": {
                "points": _l("points"),
                "entries": _l("entries"),
                "coupon": _l("coupon"),
                "cash": _l("cash"),
            },
        }
