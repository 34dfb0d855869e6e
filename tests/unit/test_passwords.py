"""The password rule: long passphrases pass; short, common and predictable passwords, and
those made of the person's own address, are refused with the reason."""

from __future__ import annotations

import pytest

from referral.domain.errors import ValidationFailed
from referral.services.accounts import check_password_strength


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple orbit", "a long enough password", "ieTh9ahv3oQu"],
)
def test_long_passphrases_and_random_passwords_pass(password: str) -> None:
    check_password_strength(password)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password123", "This password is too common"),
        ("1234567890", "This password is too common"),
        ("qwertyuiop", "This password is too common"),
        ("P@ssw0rd!!", "This password is too common"),
        ("asdfghjkl;", "keyboard rows, sequences, repeats and dates"),
        ("abcdefghijk", "keyboard rows, sequences, repeats and dates"),
        ("short", "Use at least 10 characters for the password."),
    ],
)
def test_common_and_predictable_passwords_are_refused_with_the_reason(
    password: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_password_strength(password)
    assert reason in refused.value.errors["password"][0]


def test_a_password_made_of_the_persons_own_address_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_password_strength("jane.doe@acme.example!", ["jane.doe@acme.example"])
    assert "contains your e-mail address or name" in refused.value.message
