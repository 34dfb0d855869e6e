"""A campaign's words per language: name, description, benefit line and consent sentence.

The campaign's own fields (``name``, ``description``, and ``benefit`` and ``consent_text`` in
its settings) are its **default language** (``settings.default_locale``, else the first of its
``locales``). Every other language it offers may have a translation of all four, kept in
``settings.translations``; a translation counts when it has a name. A page in a language
without one shows the default language's words, whole: never a mix of two languages in one
text, and the page says so.

The consent sentence is recorded word for word with its version, and the version names the
language: a campaign's own sentence is ``<locale>-<n>``, counted up each time the sentence of
that language changes (a version set by hand before, ``settings.consent_version``, or
``custom-1`` without one, stays until the default language's sentence changes); the built-in
sentence is
``default-1-<locale>``, written wholly in that language around the name in that language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from referral.domain.errors import N_, Message, ValidationFailed

LOCALES = ("en", "de", "nl", "zh_Hans", "zh_Hant")
FIELDS = ("name", "description", "benefit", "consent_text")
NAME_MAX = 120
DESCRIPTION_MAX = 5000
BENEFIT_MAX = 300
CONSENT_MAX = 2000
LIMITS = {
    "name": NAME_MAX,
    "description": DESCRIPTION_MAX,
    "benefit": BENEFIT_MAX,
    "consent_text": CONSENT_MAX,
}
BUILT_IN_CONSENT = "default-1"

TOO_LONG = N_("Keep this to %(max)s characters.")
NAME_NEEDED = N_("A translation needs a name.")
NOT_OFFERED = N_("The campaign does not offer this language; add it to its languages first.")
IS_DEFAULT = N_(
    "This is the campaign's default language: its own name and description are this "
    "language's words."
)
DEFAULT_NOT_OFFERED = N_("Choose one of the campaign's languages.")
NOT_A_TEXT = N_("Give a text.")
HAS_TRANSLATION = N_("This language has a translation; remove it before making it the default.")


@dataclass(frozen=True)
class Content:
    """The words a page shows: in ``locale``, asked for in ``requested``."""

    locale: str
    requested: str
    name: str
    description: str
    benefit: str
    consent_text: str
    consent_version: str

    @property
    def fallback(self) -> bool:
        """True when the language asked for has no words and the default's are shown."""
        return self.locale != self.requested


def default_locale(locales: list[str] | None, settings: dict[str, Any] | None) -> str:
    """The campaign's default language: the one chosen, else the first it offers, else en."""
    chosen = (settings or {}).get("default_locale")
    offered = list(locales or [])
    if chosen and (chosen in offered or not offered):
        return str(chosen)
    return offered[0] if offered else "en"


def _consent_version(words: dict[str, Any], locale: str) -> str:
    if not words.get("consent_text"):
        return f"{BUILT_IN_CONSENT}-{locale}"
    return str(words.get("consent_version") or f"{locale}-1")


def _default_words(name: str, description: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description or "",
        "benefit": str(settings.get("benefit") or ""),
        "consent_text": str(settings.get("consent_text") or ""),
        # a sentence saved before versions were counted keeps the version it was shown with
        "consent_version": settings.get("consent_version") or "custom-1",
    }


def _offered(requested: str, locales: list[str]) -> str:
    """``requested``, or the offered language it belongs to (``de`` for ``de_AT``)."""
    pieces = requested.replace("-", "_").split("_")
    for end in range(len(pieces), 0, -1):
        candidate = "_".join(pieces[:end])
        if candidate in locales:
            return candidate
    return requested


def content_for(
    name: str,
    description: str,
    locales: list[str] | None,
    settings: dict[str, Any] | None,
    requested: str,
) -> Content:
    """The campaign's words in ``requested`` (or its language: ``de`` for ``de_AT``): its
    translation when the campaign offers that language and has one with a name; otherwise
    (and for the default language itself) the default language's, so that ``fallback``
    says the page is not in the language asked."""
    settings = settings or {}
    requested = _offered(requested, list(locales or []))
    default = default_locale(locales, settings)
    translations = settings.get("translations") or {}
    words = translations.get(requested) if requested in (locales or []) else None
    if requested != default and isinstance(words, dict) and words.get("name"):
        locale = requested
    else:
        locale, words = default, _default_words(name, description, settings)
    return Content(
        locale=locale,
        requested=requested,
        name=str(words.get("name") or ""),
        description=str(words.get("description") or ""),
        benefit=str(words.get("benefit") or ""),
        consent_text=str(words.get("consent_text") or ""),
        consent_version=_consent_version(words, locale),
    )


def default_content(
    name: str, description: str, locales: list[str] | None, settings: dict[str, Any] | None
) -> Content:
    """The campaign's words in its default language."""
    return content_for(name, description, locales, settings, default_locale(locales, settings))


def _clean_words(value: Any, prefix: str, errors: dict[str, list[Message]]) -> dict[str, str]:
    """One translation's four texts, stripped and within their limits (errors collected)."""
    words: dict[str, str] = {}
    if not isinstance(value, dict):
        errors.setdefault(prefix, []).append(Message(NOT_A_TEXT, {}))
        return words
    for field in FIELDS:
        text = value.get(field)
        text = "" if text is None else text
        if not isinstance(text, str):
            errors.setdefault(f"{prefix}.{field}", []).append(Message(NOT_A_TEXT, {}))
            continue
        text = text.strip()
        if len(text) > LIMITS[field]:
            errors.setdefault(f"{prefix}.{field}", []).append(
                Message(TOO_LONG, {"max": LIMITS[field]})
            )
        words[field] = text
    if not words.get("name") and f"{prefix}.name" not in errors:
        errors.setdefault(f"{prefix}.name", []).append(Message(NAME_NEEDED, {}))
    return words


def _next_version(old: dict[str, Any] | None, text: str, locale: str) -> dict[str, Any]:
    """The consent bookkeeping of a language whose sentence is now ``text``: the same
    version while the sentence is unchanged, the next ``<locale>-<n>`` when it changes."""
    old = old or {}
    if not text:
        return {"consent_revision": int(old.get("consent_revision") or 0)}
    revision = int(old.get("consent_revision") or 0)
    if text == old.get("consent_text") and old.get("consent_version"):
        return {"consent_revision": revision, "consent_version": old["consent_version"]}
    return {"consent_revision": revision + 1, "consent_version": f"{locale}-{revision + 1}"}


def changed_settings(
    settings: dict[str, Any], data: dict[str, Any], locales: list[str]
) -> dict[str, Any]:
    """``settings`` with the content fields of ``data`` applied: ``default_locale``,
    ``benefit`` and ``consent_text`` (the default language's), and ``translations``, where
    each given language replaces that language's words and ``None`` removes them. Languages
    not given keep theirs (also those the campaign no longer offers: they return with it).

    :raise ValidationFailed: on ``default_locale`` (not one of ``locales``), ``benefit``,
        ``consent_text`` (too long), ``translations.<locale>`` (unknown, not offered, or the
        default language) and ``translations.<locale>.<field>`` (too long, no name).
    """
    errors: dict[str, list[Message]] = {}
    out = dict(settings)
    if data.get("default_locale") is not None:
        has_words = isinstance(
            (settings.get("translations") or {}).get(data["default_locale"]), dict
        )
        if data["default_locale"] not in locales:
            errors["default_locale"] = [Message(DEFAULT_NOT_OFFERED, {})]
        elif has_words and data["default_locale"] != default_locale(locales, settings):
            errors["default_locale"] = [Message(HAS_TRANSLATION, {})]
        else:
            out["default_locale"] = data["default_locale"]
    if out.get("default_locale") not in locales:
        out.pop("default_locale", None)  # it left the campaign: its first language is default
    default = default_locale(locales, out)
    _apply_default_words(out, data, default, errors)
    if isinstance(data.get("translations"), dict):
        out["translations"] = _merged(out, data["translations"], locales, default, errors)
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return out


def _apply_default_words(
    out: dict[str, Any], data: dict[str, Any], default: str, errors: dict[str, list[Message]]
) -> None:
    for field in ("benefit", "consent_text"):
        if field not in data:
            continue
        text = data[field] if isinstance(data[field], str) else ""
        text = text.strip()
        if len(text) > LIMITS[field]:
            errors[field] = [Message(TOO_LONG, {"max": LIMITS[field]})]
            continue
        if field == "consent_text":
            bookkeeping = _next_version(out, text, default)
            out.pop("consent_version", None)
            out.update(bookkeeping)
        out[field] = text


def _merged(
    out: dict[str, Any],
    given: dict[str, Any],
    locales: list[str],
    default: str,
    errors: dict[str, list[Message]],
) -> dict[str, Any]:
    kept = {k: v for k, v in (out.get("translations") or {}).items() if isinstance(v, dict)}
    for locale, value in given.items():
        prefix = f"translations.{locale}"
        if locale not in LOCALES or locale not in locales:
            errors[prefix] = [Message(NOT_OFFERED, {})]
            continue
        if locale == default:
            errors[prefix] = [Message(IS_DEFAULT, {})]
            continue
        if value is None:
            kept.pop(locale, None)
            continue
        words = _clean_words(value, prefix, errors)
        old = kept.get(locale)
        kept[locale] = {**words, **_next_version(old, words.get("consent_text", ""), locale)}
    return kept


def translations_out(
    locales: list[str] | None, settings: dict[str, Any] | None
) -> dict[str, dict[str, str]]:
    """The stored translations as the API shows them: each language's four texts and the
    consent version a person joining in it now records."""
    found = (settings or {}).get("translations") or {}
    shown: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        words = found.get(locale)
        if not isinstance(words, dict):
            continue
        shown[locale] = {
            **{field: str(words.get(field) or "") for field in FIELDS},
            "consent_version": _consent_version(words, locale),
        }
    return shown
