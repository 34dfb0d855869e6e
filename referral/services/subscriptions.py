"""A customer's subscription topics and the links that change them.

Topics are derived from the append-only consent records (``domain.consent_topics``):
``transactional`` always, ``marketing`` and ``birthday`` each only after their own recorded
opt-in. Changing them writes a new consent row per topic that changes (``given`` or
``withdrawn``), with where it came from and the User-Agent; nothing is ever rewritten.

Two signed links name a customer without a sign-in:

- the unsubscribe link ``/u/<token>`` names a customer and one topic: every journey mail
  carries it in ``List-Unsubscribe`` (RFC 8058), and a POST to it withdraws the topic at
  once;
- the preference page ``/preferences/<token>`` names a customer: there they tick or untick
  each topic, and give the month and day of their birthday with the birthday opt-in (never
  a year).

The tokens never expire (an unsubscribe link must work in an old mail too) and only allow
changing the subscriptions of the customer they name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from referral.domain.consent_topics import (
    BIRTHDAY,
    GIVEN,
    MARKETING,
    OPT_IN_TOPICS,
    TRANSACTIONAL,
    subscribed_topics,
)
from referral.domain.errors import N_, NotFound, ValidationFailed
from referral.domain.journey_dates import check_month_day
from referral.extensions import db
from referral.models import ConsentRecord, Customer
from referral.models.base import utcnow
from referral.services import consents
from referral.services.journey_facts import consent_entries
from referral.services.privacy import SOURCE_MAX, Actor, clip_user_agent
from referral.services.tx import atomic

UNSUBSCRIBE_SALT = "unsubscribe-link"
PREFERENCES_SALT = "preference-page"
JOURNEY_KIND = "journey:"
# Where a change was received (the consent row's ``page``).
ONE_CLICK = "one-click"  # a mail client's RFC 8058 POST
UNSUBSCRIBE_PAGE = "unsubscribe-page"  # the button on the unsubscribe page
PREFERENCES_PAGE = "preferences-page"
# The version of the wording an opt-in on the preference page was given with.
PREFERENCES_VERSION = "preferences-1"
# Who acts, for the audit log, when the customer changes their own subscriptions.
CUSTOMER = Actor(label="customer")
# The wording stored with an opt-in when the caller shows none.
OPT_IN_TEXTS = {
    MARKETING: "E-mail me news and offers.",
    BIRTHDAY: "E-mail me on my birthday.",
}
INVALID_LINK = N_("This link is not valid.")


@dataclass(frozen=True)
class Birthday:
    """A month and day, given with the birthday opt-in (a year is never asked)."""

    month: int
    day: int


# --- topics -------------------------------------------------------------------------------


def topics_of(customer: Customer) -> frozenset[str]:
    """Every topic ``customer`` may be written about now (``transactional`` always)."""
    return subscribed_topics(consent_entries(customer.id))


def topic_of_kind(kind: str) -> str | None:
    """The opt-in topic an outbox row is about (``journey:marketing`` → ``marketing``), or
    None for transactional mail, which carries no unsubscribe link."""
    if not kind.startswith(JOURNEY_KIND):
        return None
    topic = kind[len(JOURNEY_KIND) :]
    return topic if topic in OPT_IN_TOPICS else None


# --- signed links -------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def unsubscribe_token(customer_id: int, topic: str) -> str:
    """The signed part of the one-click unsubscribe link of ``customer_id`` from ``topic``."""
    return _serializer(UNSUBSCRIBE_SALT).dumps([customer_id, topic])


def preferences_token(customer_id: int) -> str:
    """The signed part of the preference page address of ``customer_id``."""
    return _serializer(PREFERENCES_SALT).dumps(customer_id)


def _base() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")


def unsubscribe_url(customer_id: int, topic: str) -> str:
    """The absolute one-click unsubscribe link (``List-Unsubscribe``, ``unsubscribe_url``)."""
    return f"{_base()}/u/{unsubscribe_token(customer_id, topic)}"


def preferences_url(customer_id: int) -> str:
    """The absolute address of the customer's preference page (``preferences_url``)."""
    return f"{_base()}/preferences/{preferences_token(customer_id)}"


def _customer(ident: object) -> Customer:
    found = db.session.get(Customer, ident) if type(ident) is int else None
    if found is None or found.erased_at is not None:
        raise NotFound(INVALID_LINK)
    return found


def from_unsubscribe_token(token: str) -> tuple[Customer, str]:
    """The customer and topic an unsubscribe token names.

    :raise NotFound: a forged or altered token, an unknown topic, or a customer who is
        gone or erased.
    """
    try:
        ident, topic = _serializer(UNSUBSCRIBE_SALT).loads(token)
    except (BadData, ValueError, TypeError):
        raise NotFound(INVALID_LINK) from None
    if topic not in OPT_IN_TOPICS:
        raise NotFound(INVALID_LINK)
    return _customer(ident), topic


def from_preferences_token(token: str) -> Customer:
    """The customer a preference token names.

    :raise NotFound: a forged or altered token, or a customer who is gone or erased.
    """
    try:
        ident = _serializer(PREFERENCES_SALT).loads(token)
    except (BadData, ValueError, TypeError):
        raise NotFound(INVALID_LINK) from None
    return _customer(ident)


# --- changing them ------------------------------------------------------------------------


def _checked(wanted: Iterable[str], birthday: Birthday | None, customer: Customer) -> set[str]:
    """The opt-in topics asked for. :raise ValidationFailed: an unknown topic, or the
    birthday topic without a month and day that exist (none given and none kept)."""
    topics = set(wanted) - {TRANSACTIONAL}
    if topics - set(OPT_IN_TOPICS):
        raise ValidationFailed.on("topics", N_("Choose what we may e-mail you about."))
    if BIRTHDAY in topics:
        if birthday is not None:
            check_month_day(birthday.month, birthday.day)
        elif customer.birthday_month is None or customer.birthday_day is None:
            raise ValidationFailed.on(
                "birthday", N_("Give the month and day of your birthday to get birthday mail.")
            )
    return topics


def _opt_in(customer: Customer, topic: str, text: str, source: str, user_agent: str | None) -> None:
    db.session.add(
        ConsentRecord(
            customer_id=customer.id,
            purpose=topic,
            text=text,
            version=PREFERENCES_VERSION,
            page=source[:SOURCE_MAX],
            given_at=utcnow(),
            action=GIVEN,
            user_agent=clip_user_agent(user_agent),
        )
    )


@atomic
def set_topics(
    customer: Customer,
    wanted: Iterable[str],
    source: str,
    *,
    user_agent: str | None = None,
    birthday: Birthday | None = None,
    texts: Mapping[str, str] | None = None,
    by: Actor = CUSTOMER,
) -> list[str]:
    """Subscribe ``customer`` to exactly the opt-in topics in ``wanted`` and return the
    changes, such as ``["marketing:withdrawn", "birthday:given"]``.

    A topic that changes gets a consent row of its own, received by ``source`` with the
    User-Agent: an opt-in stores ``texts[topic]`` (the wording shown) or a plain default, a
    withdrawal goes through ``consents.withdraw_consent`` (audited, with its webhook).
    A topic that stays as it is writes nothing. With the birthday topic, ``birthday``
    replaces the month and day kept; withdrawing it forgets them.

    :raise ValidationFailed: an unknown topic, or the birthday topic without a valid month
        and day (``birthday``).
    """
    topics = _checked(wanted, birthday, customer)
    db.session.refresh(customer, with_for_update=True)  # one change of topics at a time
    current = topics_of(customer)
    changes: list[str] = []
    for topic in OPT_IN_TOPICS:
        if topic in topics and topic not in current:
            text = (texts or {}).get(topic) or OPT_IN_TEXTS[topic]
            _opt_in(customer, topic, text, source, user_agent)
            changes.append(f"{topic}:given")
        elif topic not in topics and topic in current:
            consents.withdraw_consent(customer, topic, source, by=by, user_agent=user_agent)
            changes.append(f"{topic}:withdrawn")
    if BIRTHDAY in topics and birthday is not None:
        customer.birthday_month, customer.birthday_day = birthday.month, birthday.day
    elif BIRTHDAY not in topics:
        customer.birthday_month = customer.birthday_day = None
    return changes


@atomic
def unsubscribe(
    customer: Customer, topic: str, source: str = ONE_CLICK, *, user_agent: str | None = None
) -> bool:
    """Withdraw ``customer`` from ``topic`` at once (the one-click POST, the page's button);
    True when a row was written, False when they were not subscribed (nothing written).
    Withdrawing the birthday topic forgets the month and day.

    :raise ValidationFailed: ``topic`` is not an opt-in topic.
    """
    if topic not in OPT_IN_TOPICS:
        raise ValidationFailed.on("topics", N_("Choose what we may e-mail you about."))
    db.session.refresh(customer, with_for_update=True)
    if topic not in topics_of(customer):
        return False
    consents.withdraw_consent(customer, topic, source, by=CUSTOMER, user_agent=user_agent)
    if topic == BIRTHDAY:
        customer.birthday_month = customer.birthday_day = None
    return True
