"""Who is joining: the address they give and the customer row it stands for.

A workspace knows a person once, by the normalised form of their address
(``domain.emails.normalise_email``): the same address in another spelling is the same
customer, whichever campaign they join.
"""

from __future__ import annotations

from disposable_email_domains import blocklist
from sqlalchemy import select

from referral.domain.emails import clean_email, email_domain, normalise_email
from referral.domain.errors import N_, Message, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Customer
from referral.services.rows import insert_row_once

NAME_MAX = 120
CHANNEL_MAX = 32


def check_fields(email: str, name: str | None, channel: str | None) -> None:
    """Every field of a sign-up checked at once, so the form can mark them all.

    :raise ValidationFailed: on ``email`` (no address), ``name`` or ``channel`` (too long).
    """
    errors: dict[str, list[str | Message]] = {}
    try:
        clean_email(email)
    except ValidationFailed as error:
        # The templates, not the English text, so that the page can still translate them.
        errors.update((field, list(found)) for field, found in error.messages.items())
    if len(name or "") > NAME_MAX:
        errors["name"] = [Message(N_("Keep the name to %(max)s characters."), {"max": NAME_MAX})]
    if len(channel or "") > CHANNEL_MAX:
        errors["channel"] = [
            Message(N_("Keep the channel to %(max)s characters."), {"max": CHANNEL_MAX})
        ]
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)


def is_disposable(email: str) -> bool:
    """Whether the address is at a throwaway-mail domain."""
    return email_domain(normalise_email(email)) in blocklist


def check_permanent(campaign: Campaign, email: str) -> None:
    """:raise ValidationFailed: a throwaway address where the campaign blocks them."""
    if campaign.settings.get("disposable_email") == "block" and is_disposable(email):
        raise ValidationFailed.on("email", N_("Please use a permanent e-mail address."))


def customer_for(
    workspace_id: int, email: str, name: str = "", locale: str | None = None
) -> Customer:
    """The workspace's customer for this address, created when new."""
    return find_or_create_customer(workspace_id, email, name, locale)[0]


def find_or_create_customer(
    workspace_id: int, email: str, name: str = "", locale: str | None = None
) -> tuple[Customer, bool]:
    """The workspace's customer for this address and whether it was created now.

    Race-safe: of two requests creating the same person, one inserts and the other (its
    ``INSERT … ON CONFLICT DO NOTHING`` waits for the first) finds that row. The insert
    comes first, so a new person (most sign-ups) costs one statement.
    """
    key = normalise_email(email)
    values = {
        "workspace_id": workspace_id,
        "email": key,
        "email_display": clean_email(email),
        "name": name,
        "locale": locale,
    }
    created = insert_row_once(Customer, values, ("workspace_id", "email"))
    if created is not None:
        return created, True
    query = select(Customer).where(Customer.workspace_id == workspace_id, Customer.email == key)
    return db.session.scalars(query).one(), False
