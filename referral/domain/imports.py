"""A file of people to import: how its bytes become rows, its columns become fields, and
each row a person the import can add (or a reason it cannot).

The file is UTF-8, with or without a byte-order mark; its delimiter is a comma or a
semicolon (whichever the header line holds more of, outside quotes). The first line names
the columns; the marketer maps them to the fields below, ``email`` being the one required.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from referral.domain.campaigns import LOCALES
from referral.domain.errors import N_, Message, ValidationFailed

MAX_BYTES = 2 * 1024 * 1024  # the admin's upload limit (and the app's MAX_CONTENT_LENGTH)
MAX_ROWS = 20_000
PREVIEW_ROWS = 10
BASIS_MAX = 500  # the consent row keeps the stated basis as its text
EMAIL = "email"
FIELDS = ("email", "name", "locale", "referral_code", "birthday")
DELIMITERS = (",", ";")

# Header names a column is recognised by (lower-case, without spaces, dashes, underscores).
_ALIASES = {
    "email": ("email", "emailaddress", "mail", "e-mail", "courriel"),
    "name": ("name", "fullname", "firstname", "vorname", "naam"),
    "locale": ("locale", "language", "lang", "sprache", "taal"),
    "referral_code": ("referralcode", "referrercode", "referrer", "code", "referredby"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "dob", "geburtstag"),
}
_ISO_DATE = re.compile(r"^(?:\d{4}|-)-(\d{1,2})-(\d{1,2})$")  # 1985-03-14 or --03-14
_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./]\d{4})?$")  # 14.03.1985, 14/03
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Table:
    """The file's header and its rows, each row as long as the header."""

    header: list[str]
    rows: list[list[str]]
    delimiter: str
    lines: list[int] = field(default_factory=list)  # each row's line in the file


@dataclass(frozen=True)
class Person:
    """One person to add: ``line`` is where they stand in the file (or their index in an
    API call); the birthday is a month and day only, never a year."""

    email: str
    line: int = 0
    name: str = ""
    locale: str | None = None
    referral_code: str | None = None
    birthday: tuple[int, int] | None = None


@dataclass
class Row:
    """A row read with a mapping: a person, or the fields it got wrong."""

    line: int
    email: str
    person: Person | None = None
    errors: dict[str, list[Message]] = field(default_factory=dict)


def decode(data: bytes) -> str:
    """The file's text. :raise ValidationFailed: on ``file``: empty, too large, not UTF-8."""
    if not data.strip():
        raise ValidationFailed.on("file", N_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ValidationFailed.on(
            "file", N_("Keep the file under %(max)s MB."), {"max": MAX_BYTES // (1024 * 1024)}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.on("file", N_("Save the file as UTF-8 text (CSV).")) from None


def delimiter_of(text: str) -> str:
    """A comma or a semicolon: whichever the header line holds more of outside quotes (a
    comma when neither)."""
    first = text.split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", first)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


def read_table(data: bytes) -> Table:
    """The file as a table: blank lines skipped, short rows padded, long rows cut to the
    header's width.

    :raise ValidationFailed: on ``file``: as :func:`decode`, no header, no rows, too many rows.
    """
    text = decode(data)
    delimiter = delimiter_of(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    lines, numbers = [], []
    for row in reader:
        if any(cell.strip() for cell in row):
            lines.append(row)
            numbers.append(reader.line_num)
    if len(lines) < 2:
        raise ValidationFailed.on("file", N_("The file needs a header line and one row."))
    if len(lines) - 1 > MAX_ROWS:
        raise ValidationFailed.on("file", N_("Keep the file to %(max)s rows."), {"max": MAX_ROWS})
    header = [name.strip() for name in lines[0]]
    width = len(header)
    rows = [(row + [""] * width)[:width] for row in lines[1:]]
    return Table(header, rows, delimiter, numbers[1:])


def _folded(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.lower())


def guess_mapping(header: list[str]) -> dict[str, int | None]:
    """Each field's column, by its header name (None: not found); a column serves one field."""
    taken: set[int] = set()
    mapping: dict[str, int | None] = {}
    for name in FIELDS:
        aliases = {_folded(alias) for alias in _ALIASES[name]}
        found = next(
            (i for i, h in enumerate(header) if i not in taken and _folded(h) in aliases), None
        )
        if found is not None:
            taken.add(found)
        mapping[name] = found
    return mapping


def check_mapping(mapping: dict[str, int | None], width: int) -> None:
    """:raise ValidationFailed: on ``email`` (no column), or a field mapped outside the
    table, or two fields on one column."""
    if mapping.get(EMAIL) is None:
        raise ValidationFailed.on(EMAIL, N_("Choose the column that holds the e-mail address."))
    used = [column for column in mapping.values() if column is not None]
    if any(not 0 <= column < width for column in used) or len(used) != len(set(used)):
        raise ValidationFailed.on("mapping", N_("Map each column to one field at most."))


def birthday_of(text: str) -> tuple[int, int] | None:
    """(month, day) of ``1985-03-14``, ``--03-14``, ``14.03.1985`` or ``14/03``; the year is
    dropped. :raise ValidationFailed: on ``birthday`` for anything else or an impossible day."""
    text = text.strip()
    if not text:
        return None
    iso, day_first = _ISO_DATE.match(text), _DAY_FIRST.match(text)
    if iso:
        month, day = int(iso.group(1)), int(iso.group(2))
    elif day_first:
        day, month = int(day_first.group(1)), int(day_first.group(2))
    else:
        raise ValidationFailed.on("birthday", N_("Write the birthday as 1985-03-14."))
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]):
        raise ValidationFailed.on("birthday", N_("Write the birthday as 1985-03-14."))
    return month, day


def locale_of(text: str) -> str | None:
    """A supported locale (``de``, ``de-DE`` and ``de_de`` are ``de``; ``zh-Hant`` is
    ``zh_Hant``), or None when empty. :raise ValidationFailed: on ``locale`` otherwise."""
    text = text.strip().replace("-", "_")
    if not text:
        return None
    for locale in LOCALES:
        if text.lower() == locale.lower():
            return locale
    base = text.split("_", 1)[0].lower()
    if base in LOCALES:
        return base
    raise ValidationFailed.on(
        "locale", N_("Use one of the languages %(locales)s."), {"locales": ", ".join(LOCALES)}
    )


def _cell(row: list[str], column: int | None) -> str:
    return row[column].strip() if column is not None else ""


def read_row(line: int, row: list[str], mapping: dict[str, int | None]) -> Row:
    """One row as a :class:`Person`, or the errors of its locale and birthday cells (the
    address and the name are the import's to check, as for any sign-up)."""
    email = _cell(row, mapping.get(EMAIL))
    found = Row(line, email)
    values: dict[str, object] = {}
    for name, parse in (("locale", locale_of), ("birthday", birthday_of)):
        try:
            values[name] = parse(_cell(row, mapping.get(name)))
        except ValidationFailed as error:
            found.errors.update(error.messages)
    if found.errors:
        return found
    found.person = Person(
        email=email,
        line=line,
        name=_cell(row, mapping.get("name")),
        locale=values["locale"],  # type: ignore[arg-type]
        referral_code=_cell(row, mapping.get("referral_code")) or None,
        birthday=values["birthday"],  # type: ignore[arg-type]
    )
    return found


def read_rows(table: Table, mapping: dict[str, int | None]) -> list[Row]:
    """Every row of ``table`` read with ``mapping``, with its line in the file."""
    return [read_row(line, row, mapping) for line, row in zip(table.lines, table.rows, strict=True)]


def checked_basis(basis: str | None) -> str:
    """The marketer's stated basis for writing to the imported people, trimmed.

    :raise ValidationFailed: on ``basis``: empty or longer than :data:`BASIS_MAX`.
    """
    basis = (basis or "").strip()
    if not basis:
        raise ValidationFailed.on(
            "basis", N_("Say why you may write to these people (e.g. existing customers).")
        )
    if len(basis) > BASIS_MAX:
        raise ValidationFailed.on(
            "basis", N_("Keep the basis to %(max)s characters."), {"max": BASIS_MAX}
        )
    return basis
