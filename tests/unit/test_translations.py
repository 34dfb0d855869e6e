"""Translations without a request: complete catalogues that keep every placeholder, a
template that holds every marked message, and the domain's way of marking messages."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from referral.domain.errors import N_, Message, ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "referral" / "translations"
LOCALES = ("en", "de", "nl", "zh_Hans", "zh_Hant")
PLACEHOLDER = re.compile(r"%\((\w+)\)([sdif])")  # (name, conversion)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _po(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's text as a tuple: one form, or one per plural form."""
    return text if isinstance(text, tuple) else (text,)


def _template_ids() -> set[str | tuple[str, ...]]:
    return {message.id for message in _read(TRANSLATIONS / "messages.pot") if message.id}


# --- the catalogues ------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalogue_translates_every_message_of_the_template(locale: str) -> None:
    catalogue = _read(_po(locale), locale)
    problems = []
    for msgid in sorted(_template_ids(), key=str):
        message = catalogue.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif not all(form.strip() for form in _forms(message.string)):
            problems.append(f"untranslated: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
    assert not problems, f"{locale}: run `make extract-messages` and translate:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_every_translation_keeps_the_placeholders_of_its_message(locale: str) -> None:
    for message in _read(_po(locale), locale):
        if not message.id or not message.string:
            continue
        wanted = {token for text in _forms(message.id) for token in PLACEHOLDER.findall(text)}
        for form in filter(None, _forms(message.string)):  # untranslated: the test above
            assert set(PLACEHOLDER.findall(form)) == wanted, (locale, message.id, form)
            if wanted:  # and nothing else that %-formatting would choke on
                form % {name: 1 for name, _conversion in wanted}


def test_the_template_holds_every_message_marked_in_the_sources(tmp_path: Path) -> None:
    """Someone added a string but did not run `make extract-messages`? This says which."""
    fresh = tmp_path / "messages.pot"
    pybabel = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract"]
    keywords = ["-k", "_l", "-k", "lazy_gettext", "-k", "N_"]  # as in the Makefile
    subprocess.run(
        [*pybabel, "-F", "babel.cfg", *keywords, "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    missing = {m.id for m in _read(fresh) if m.id} - _template_ids()
    assert not missing, f"run `make extract-messages` and translate: {sorted(missing, key=str)}"


# --- the message-marking API of the domain -------------------------------------------------


def test_n_underscore_marks_a_message_without_changing_it() -> None:
    assert N_("Keep the name to %(max)s characters.") == "Keep the name to %(max)s characters."


def test_a_domain_error_keeps_english_text_and_its_template_for_translation() -> None:
    error = ValidationFailed.on("name", N_("Keep the name to %(max)s characters."), {"max": 120})
    assert error.message == str(error) == "Keep the name to 120 characters."
    assert error.errors == {"name": ["Keep the name to 120 characters."]}
    assert error.template == "Keep the name to %(max)s characters."
    assert error.params == {"max": 120}
    assert error.messages == {
        "name": [Message("Keep the name to %(max)s characters.", {"max": 120})]
    }


def test_plain_string_field_errors_still_work() -> None:
    error = ValidationFailed("Some fields are not valid.", {"kind": ["100% wrong."]})
    assert error.errors == {"kind": ["100% wrong."]}
    assert error.messages["kind"][0].text == "100% wrong."


def test_the_domain_layer_imports_neither_flask_nor_babel() -> None:
    for path in (ROOT / "referral" / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.split(".")[0].startswith(("flask", "babel")), (path.name, name)
