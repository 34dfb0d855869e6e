"""The service's own e-mails that a workspace may reword (the confirmation, the trial
reminder and the winner's notice): what each may quote, sample values
to check and preview it with, and the text a new version starts from.

They are written in the same sandbox as journey messages (``domain.message_templates``),
with fewer names: the customer, the campaign, the person's referral link, their privacy
page and the links of that e-mail. A campaign may have its own version per locale; where it
has none, the workspace's version of that locale is sent, and where the workspace has not
written that locale either, the built-in e-mail in that locale (``templates/email/``,
translated with the rest of the service).
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
    "privacy_url": None,
}
SAMPLE_BASE: Mapping[str, Any] = {
    "customer": {"name": "Anna Jansen", "first_name": "Anna", "locale": "en"},
    "campaign": {
        "name": "Spring referral",
        "slug": "spring",
        "url": "https://example.com/c/spring",
    },
    "referral_link": "https://example.com/r/ANNA42",
    "privacy_url": "https://example.com/privacy/sample",
}
# Per e-mail, the links it adds to the names above, with sample values.
LINKS: Mapping[str, Mapping[str, str]] = {
    "confirmation": {
        "confirm_url": "https://example.com/confirm/sample",
        "advocate_url": "https://example.com/me/sample",
    },
    "trial_ending": {
        "trial_url": "https://example.com/trial/sample",
        "ends_on": "1 May 2027",
    },
    "draw_winner": {
        "verify_url": "https://example.com/draws/1/verify",
        "advocate_url": "https://example.com/me/sample",
        "claim_days": "14",
        "sponsor": "Example Ltd",
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
TRIAL_ENDING = MessageParts(
    subject="Your free trial of {{ campaign.name }} ends soon",
    text=(
        "{% if customer.first_name %}Hello {{ customer.first_name }},{% else %}Hello,{% endif %}"
        "\n\nYour free trial of {{ campaign.name }} ends on {{ ends_on }}.\n\nTo keep it, "
        "choose a plan before that day. You can see your trial here:\n{{ trial_url }}\n\nYou "
        "get this reminder once. If you do not want to continue, simply let the trial end.\n"
    ),
    html=(
        "<p>{% if customer.first_name %}Hello {{ customer.first_name }},{% else %}Hello,"
        "{% endif %}</p>\n<p>Your free trial of {{ campaign.name }} ends on {{ ends_on }}.</p>\n"
        '<p>To keep it, choose a plan before that day: <a href="{{ trial_url }}">see your '
        "trial</a>.</p>\n<p>You get this reminder once.</p>\n"
    ),
)
DRAW_WINNER = MessageParts(
    subject="You were drawn as a winner of {{ campaign.name }}",
    text=(
        "{% if customer.first_name %}Hello {{ customer.first_name }},{% else %}Hello,{% endif %}"
        "\n\nYour entry was drawn as a winner of {{ campaign.name }}.\n{% if claim_days %}"
        "\nPlease claim your prize within {{ claim_days }} days by replying to this e-mail.\n"
        "{% endif %}\nAnyone can check the draw here:\n{{ verify_url }}\n\nYour own page: "
        "{{ advocate_url }}\n"
    ),
    html=(
        "<p>{% if customer.first_name %}Hello {{ customer.first_name }},{% else %}Hello,"
        "{% endif %}</p>\n<p>Your entry was drawn as a winner of {{ campaign.name }}.</p>\n"
        "{% if claim_days %}<p>Please claim your prize within {{ claim_days }} days by replying "
        "to this e-mail.</p>\n{% endif %}"
        '<p><a href="{{ verify_url }}">Anyone can check the draw</a>.</p>\n'
        '<p>Your own page: <a href="{{ advocate_url }}">{{ advocate_url }}</a></p>\n'
    ),
)
# The English text a new version of each e-mail starts from.
STARTERS: Mapping[str, MessageParts] = {
    "confirmation": CONFIRMATION,
    "trial_ending": TRIAL_ENDING,
    "draw_winner": DRAW_WINNER,
}


def key_of(mail: str, campaign_id: int | None = None) -> str:
    """The key of the workspace's version of ``mail``, or of one campaign's own version
    (``mail:confirmation@12``), which that campaign sends instead."""
    return f"{PREFIX}{mail}" if campaign_id is None else f"{PREFIX}{mail}@{campaign_id}"


def fields_of(mail: str) -> dict[str, frozenset[str] | None]:
    """The names the e-mail ``mail`` may quote."""
    return {**BASE_FIELDS, **dict.fromkeys(LINKS[mail])}


def sample_of(mail: str) -> dict[str, Any]:
    """Made-up values for every name of ``mail``, to check and preview it with."""
    return {**SAMPLE_BASE, **LINKS[mail]}
