"""The service's own e-mails that a workspace may reword: what each may quote, sample values
to check and preview it with, and the text a new version starts from.

They are written in the same sandbox as journey messages (``domain.message_templates``),
with fewer names: the customer, the campaign, the person's referral link and the links of
that e-mail. A workspace that has not written a locale of one sends the built-in e-mail in
that locale (``templates/email/``, translated with the rest of the service).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referral.domain.message_templates import CAMPAIGN_FIELDS, MessageParts

# The key a rewording is stored under, beside the journey messages (whose keys have no ":").
PREFIX = "mail:"
CUSTOMER_FIELDS = frozenset({"name", "first_name", "locale"})
BASE_FIELDS: Mapping[str, frozenset[str] | None] = {
    "customer": CUSTOMER_FIELDS,
    "campaign": CAMPAIGN_FIELDS,
    "referral_link": None,
}
SAMPLE_BASE: Mapping[str, Any] = {
    "customer": {"name": "Anna Jansen", "first_name": "Anna", "locale": "en"},
    "campaign": {
        "name": "Spring referral",
        "slug": "spring",
        "url": "https://example.com/c/spring",
    },
    "referral_link": "https://example.com/r/ANNA42",
}
# Per e-mail, the links it adds to the names above, with sample values.
LINKS: Mapping[str, Mapping[str, str]] = {
    "confirmation": {
        "confirm_url": "https://example.com/confirm/sample",
        "advocate_url": "https://example.com/me/sample",
    },
}
MAILS = tuple(LINKS)

CONFIRMATION = MessageParts(
    subject="Please confirm your e-mail address for {{ campaign.name }}",
    text=(
        "{% if customer.first_name %}Hello {{ customer.first_name }},{% else %}Hello,{% endif %}"
        "\n\nThank you for joining {{ campaign.name }}. Please confirm your e-mail address by "
        "opening this link:\n\n{{ confirm_url }}\n\nThe link works once and is valid for 7 "
        "days. If you did not sign up, ignore this e-mail: nothing happens without your "
        "confirmation.\n\nAfter confirming, your own page with your link, your friends and "
        "your rewards is here:\n{{ advocate_url }}\n"
    ),
    html=(
        "<p>{% if customer.first_name %}Hello {{ customer.first_name }},{% else %}Hello,"
        "{% endif %}</p>\n<p>Thank you for joining {{ campaign.name }}. Please confirm your "
        'e-mail address:</p>\n<p><a href="{{ confirm_url }}">Confirm my address</a></p>\n'
        "<p>The link works once and is valid for 7 days.</p>\n"
        '<p>Your own page: <a href="{{ advocate_url }}">{{ advocate_url }}</a></p>\n'
    ),
)
# The English text a new version of each e-mail starts from.
STARTERS: Mapping[str, MessageParts] = {"confirmation": CONFIRMATION}


def key_of(mail: str) -> str:
    return f"{PREFIX}{mail}"


def fields_of(mail: str) -> dict[str, frozenset[str] | None]:
    """The names the e-mail ``mail`` may quote."""
    return {**BASE_FIELDS, **dict.fromkeys(LINKS[mail])}


def sample_of(mail: str) -> dict[str, Any]:
    """Made-up values for every name of ``mail``, to check and preview it with."""
    return {**SAMPLE_BASE, **LINKS[mail]}
