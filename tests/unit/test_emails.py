"""E-mail addresses as identities: ``normalise_email`` and ``clean_email``."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from referral.domain.emails import (
    GMAIL_DOMAINS,
    PLUS_TAG_DOMAINS,
    clean_email,
    email_domain,
    mask_email,
    normalise_email,
)
from referral.domain.errors import ValidationFailed

# Local parts as people type them: letters (any case), digits, dots between, an optional tag.
ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=1,
    max_size=8,
)
DOTTED = st.lists(ATOM, min_size=1, max_size=4).map(".".join)
TAG = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_+", min_size=1, max_size=5), max_size=3
).map(".".join)
OTHER_DOMAINS = st.sampled_from(
    ["example.com", "example.org", "company.co.uk", "mail.example.nl", "yahoo.com", "qq.com"]
)
PLUS_DOMAINS = st.sampled_from(sorted(PLUS_TAG_DOMAINS - GMAIL_DOMAINS))
GMAIL = st.sampled_from(["gmail.com", "googlemail.com", "GMail.com", "GoogleMail.COM"])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Typical addresses, and odd ones: dots and pluses next to each other or anywhere."""
    shape = draw(st.sampled_from(["typical", "joint", "free"]))
    if shape == "typical":
        local = draw(DOTTED)
        if draw(st.booleans()):
            local += "+" + draw(TAG)
    elif shape == "joint":
        joint = draw(st.sampled_from(["", ".", "+", ".+", "+.", "++", "+.+"]))
        local = draw(DOTTED) + joint + draw(TAG)
    else:
        local = draw(st.text(alphabet="aBz09._-+", min_size=1, max_size=12))
    domain = draw(st.one_of(OTHER_DOMAINS, PLUS_DOMAINS, GMAIL))
    padding = draw(st.sampled_from(["", " ", "\t", "  "]))
    return f"{padding}{local}@{domain}{padding}"


@given(addresses())
@example("John.Smith+promo@GoogleMail.com")
@example("+only-a-tag@outlook.com")
@example("a.+x@outlook.com")
def test_normalising_is_idempotent(address: str) -> None:
    try:
        once = normalise_email(address)
    except ValidationFailed:
        assume(False)
        raise
    assert normalise_email(once) == once
    assert once == once.strip().lower()


@given(DOTTED, TAG, GMAIL)
def test_gmail_dots_and_tags_fold_and_googlemail_becomes_gmail(
    local: str, tag: str, domain: str
) -> None:
    plain = normalise_email(f"{local.replace('.', '')}@gmail.com")
    assert normalise_email(f"{local}+{tag}@{domain}") == plain
    assert normalise_email(f"{local}@{domain}") == plain
    assert plain == f"{local.replace('.', '').lower()}@gmail.com"


@given(DOTTED, st.one_of(OTHER_DOMAINS, PLUS_DOMAINS))
def test_dots_are_never_removed_outside_gmail(local: str, domain: str) -> None:
    assert normalise_email(f"{local}@{domain}") == f"{local.lower()}@{domain}"


@given(DOTTED, TAG, PLUS_DOMAINS)
def test_tags_are_removed_for_providers_that_deliver_them_to_the_same_box(
    local: str, tag: str, domain: str
) -> None:
    assert normalise_email(f"{local}+{tag}@{domain}") == f"{local.lower()}@{domain}"


@given(DOTTED, TAG, OTHER_DOMAINS)
def test_tags_are_kept_for_other_providers(local: str, tag: str, domain: str) -> None:
    """``a+b@example.com`` may be a different mailbox from ``a@example.com``."""
    address = f"{local}+{tag}@{domain}"
    assert normalise_email(address) == address.lower()


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("John.Smith+promo@GoogleMail.com", "johnsmith@gmail.com"),
        ("j.o.h.n@gmail.com", "john@gmail.com"),
        ("john.smith+x@example.com", "john.smith+x@example.com"),
        ("Anna+news@Outlook.com", "anna@outlook.com"),
        ("anna.b+news@icloud.com", "anna.b@icloud.com"),
        ("  Mixed.Case@Example.ORG ", "mixed.case@example.org"),
        ("+only-a-tag@outlook.com", "+only-a-tag@outlook.com"),
    ],
)
def test_normalised_keys_of_typical_addresses(typed: str, key: str) -> None:
    assert normalise_email(typed) == key


def test_a_tag_after_a_dot_is_kept_rather_than_leave_a_trailing_dot() -> None:
    """``a.+x@outlook.com`` without its tag would be ``a.@outlook.com``: not an address."""
    key = normalise_email("a.+x@outlook.com")
    assert key == "a.+x@outlook.com"
    assert normalise_email(key) == key


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "john@",
        "john@example",
        "john@@example.com",
        "john smith@example.com",
        ".john@example.com",
        "john.@example.com",
        "jo..hn@example.com",
        "john@-example.com",
        "john@example.c",
        'jo"hn@example.com',
        "john@exa_mple.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_what_is_not_an_address_is_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        normalise_email(typed)
    assert list(raised.value.errors) == ["email"]


@given(st.text(alphabet=st.characters(blacklist_characters="@"), max_size=40))
def test_text_without_an_at_sign_is_never_an_address(text: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_email(text)


@pytest.mark.parametrize("value", [None, 42, b"a@example.com"])
def test_a_non_string_is_refused_not_crashed_on(value: object) -> None:
    with pytest.raises(ValidationFailed):
        clean_email(value)  # type: ignore[arg-type]


def test_clean_email_keeps_dots_and_tags_the_person_typed() -> None:
    assert clean_email(" John.Smith+Promo@GMail.com ") == "john.smith+promo@gmail.com"


def test_the_domain_is_after_the_last_at_sign_and_a_mask_keeps_one_letter() -> None:
    assert email_domain("a@b@example.com") == "example.com"
    assert mask_email("john@gmail.com") == "j***@g***.com"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an e-mail address."),
        ("anna@", "This does not look like an e-mail address."),
        ("anna at example.com", "This does not look like an e-mail address."),
    ],
)
def test_a_malformed_address_is_refused_on_the_email_field_with_the_reason(
    typed: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_email(typed)
    assert refused.value.errors == {"email": [message]}
