"""E-mail addresses as identities: one customer per normalised address.

The rule, stated once: lower-case the whole address; for Gmail (``gmail.com`` and its alias
``googlemail.com``) drop every dot of the local part and fold the domain to ``gmail.com``;
for providers known to deliver ``local+tag`` to ``local`` drop the ``+tag``. Dots are never
dropped anywhere else: for most providers ``a.b`` and ``ab`` are different people.
"""

from __future__ import annotations

import re

from referral.domain.errors import N_, ValidationFailed

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# Providers documented to deliver sub-addresses (``local+tag``) to ``local``.
PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "yandex.ru",
        "yandex.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "posteo.de",
        "mailbox.org",
        "zoho.com",
        "hey.com",
    }
)

# Deliberately simple: full RFC 5322 is not what a sign-up form wants. One @, a local part
# of printable non-space characters, a domain of labels with a dot and a 2+ letter TLD.
_SHAPE = re.compile(
    r"^[^\s@\"<>(),;:\\\[\]]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
MAX_LENGTH = 254


def clean_email(raw: str) -> str:
    """The address as the person typed it, trimmed and lower-cased; raises if malformed.

    :raise ValidationFailed: on field ``email`` when the text is not an address.
    """
    if not isinstance(raw, str):
        raise ValidationFailed.on("email", N_("Enter an e-mail address."))
    text = raw.strip().lower()
    if not text:
        raise ValidationFailed.on("email", N_("Enter an e-mail address."))
    if len(text) > MAX_LENGTH or not _SHAPE.match(text):
        raise ValidationFailed.on("email", N_("This does not look like an e-mail address."))
    local, _, domain = text.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValidationFailed.on("email", N_("This does not look like an e-mail address."))
    return text


def normalise_email(raw: str) -> str:
    """The identity key of an address (see the module rule).

    >>> normalise_email("John.Smith+promo@GoogleMail.com")
    'johnsmith@gmail.com'
    >>> normalise_email("john.smith+x@example.com")
    'john.smith+x@example.com'

    :raise ValidationFailed: when the text is not an address.
    """
    text = clean_email(raw)
    local, _, domain = text.rpartition("@")
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    if domain in PLUS_TAG_DOMAINS:
        untagged = local.split("+", 1)[0]
        # Keep the tag when dropping it would leave no valid mailbox ("a.+x" → "a.").
        if untagged and not untagged.endswith("."):
            local = untagged
    return f"{local}@{domain}"


def email_domain(address: str) -> str:
    """The part after the last ``@``."""
    return address.rpartition("@")[2]


def mask_email(address: str) -> str:
    """A recognisable but private form for public lists: ``j***@g***.com``."""
    local, _, domain = address.rpartition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{name[:1]}***.{tld}"
