"""Reading a file of people: its delimiter, its columns guessed by name, each row's cells,
and the refusals of a file that cannot be read."""

from __future__ import annotations

import pytest

from referral.domain.errors import ValidationFailed
from referral.domain.imports import (
    MAX_BYTES,
    birthday_of,
    check_mapping,
    checked_basis,
    guess_mapping,
    locale_of,
    read_rows,
    read_table,
)


def test_a_semicolon_file_with_a_byte_order_mark_reads_with_its_lines() -> None:
    data = "\ufeffE-Mail;Vorname;Sprache\nann@example.com;Ann;de-DE\n\n;;\nbob@example.org;Bob\n"
    table = read_table(data.encode())
    assert table.delimiter == ";"
    assert table.header == ["E-Mail", "Vorname", "Sprache"]
    assert table.rows == [["ann@example.com", "Ann", "de-DE"], ["bob@example.org", "Bob", ""]]
    assert table.lines == [2, 5]


def test_columns_are_guessed_by_their_names_and_each_serves_one_field() -> None:
    mapping = guess_mapping(["Name", "Email address", "Language", "Referred by", "Notes"])
    assert mapping == {"email": 1, "name": 0, "locale": 2, "referral_code": 3, "birthday": None}


def test_a_row_with_a_bad_birthday_or_language_names_those_fields() -> None:
    table = read_table(b"email,language,birthday\nann@example.com,fr,31.02.1980\n")
    (row,) = read_rows(table, guess_mapping(table.header))
    assert row.person is None
    assert set(row.errors) == {"locale", "birthday"}


def test_a_birthday_keeps_month_and_day_only() -> None:
    assert birthday_of("1985-03-14") == birthday_of("14.03.1985") == birthday_of("--03-14")
    assert birthday_of("1985-03-14") == (3, 14)
    assert birthday_of("") is None
    assert locale_of("zh-hant") == "zh_Hant" and locale_of("nl_BE") == "nl"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"  \n", "The file is empty."),
        (b"email\n", "The file needs a header line and one row."),
        ("email\nbj\xf6rn@example.com\n".encode("latin-1"), "Save the file as UTF-8 text (CSV)."),
        (b"email\n" + b"a@example.com\n" * (MAX_BYTES // 14 + 1), "Keep the file under 2 MB."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_table(data)
    assert refused.value.errors == {"file": [message]}


def test_a_mapping_needs_the_email_column_and_one_field_per_column() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_mapping({"email": None}, 2)
    assert "email" in refused.value.errors
    with pytest.raises(ValidationFailed) as twice:
        check_mapping({"email": 0, "name": 0}, 2)
    assert "mapping" in twice.value.errors
    with pytest.raises(ValidationFailed):
        checked_basis("   ")
    assert checked_basis("  Our customers ") == "Our customers"
