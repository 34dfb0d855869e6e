"""Double opt-in: the e-mailed confirmation link, and what confirming an address pays.

Rewards flow only between people who confirmed their address (DESIGN H1). A link is
single-use and expires after :data:`TOKEN_TTL`; a fresh one can be sent while the person
is still pending, and older links keep working until they expire.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import String, bindparam, inspect, select
from sqlalchemy import insert as sa_insert

from referral.domain.errors import N_, Conflict, NotFound
from referral.extensions import db
from referral.models import Campaign, ConfirmationToken, Customer, LedgerEntry, Participation
from referral.models.base import utcnow
from referral.services import counters, lottery, outbox, trials, webhooks
from referral.services.campaign_rows import campaign_by_id
from referral.services.events import Timeline, record_event_once
from referral.services.rewards import chain_of, pay_for_event
from referral.services.rows import (
    as_loaded,
    first_row,
    insert,
    rows_where,
    table_attributes,
    update_row,
)
from referral.services.tx import atomic, keep_loaded

TOKEN_TTL = timedelta(days=7)

Composer = Callable[[Participation, Customer, str], outbox.Mail]


class LinkExpired(Conflict):
    """A confirmation link past its time; names the campaign so the page can offer it."""

    def __init__(self, message: str, campaign: Campaign) -> None:
        super().__init__(message)
        self.campaign = campaign
        self.campaign_id = campaign.id


def awaits_confirmation(participation: Participation) -> bool:
    """Whether the person still has to click their confirmation link (rejected: never)."""
    return participation.confirmed_at is None and participation.status != "rejected"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_link(participation: Participation, customer: Customer, compose: Composer | None) -> str:
    """A new single-use link for ``participation``, queued in the outbox through
    ``compose`` (None: only the link is made), in the caller's transaction."""
    token = secrets.token_urlsafe(24)
    insert(
        ConfirmationToken,
        {
            "participation_id": participation.id,
            "token_hash": _digest(token),
            "expires_at": utcnow() + TOKEN_TTL,
        },
    )
    if compose is not None:
        outbox.queue(
            customer.workspace_id,
            customer.email_display,
            "confirmation",
            compose(participation, customer, token),
            customer.id,
        )
    return token


def send_links(
    people: Sequence[tuple[Participation, Customer]], compose: Composer | None
) -> list[str]:
    """:func:`send_link` for many people at once (an import): the tokens in one multi-row
    insert, the mails (one each) in another; the links' tokens in the order given."""
    if not people:
        return []
    tokens = [secrets.token_urlsafe(24) for _ in people]
    expires = utcnow() + TOKEN_TTL
    db.session.execute(
        sa_insert(ConfirmationToken),
        [
            {"participation_id": p.id, "token_hash": _digest(t), "expires_at": expires}
            for (p, _c), t in zip(people, tokens, strict=True)
        ],
    )
    if compose is not None:
        outbox.queue_many(
            [
                (c.workspace_id, c.email_display, "confirmation", compose(p, c, t), c.id)
                for (p, c), t in zip(people, tokens, strict=True)
            ]
        )
    return tokens


def record_confirmed(campaign: Campaign, participation: Participation) -> list[LedgerEntry]:
    """Record the confirmation event once and pay its rules (inside the caller's transaction).

    A trial starts at confirmation. Confirmed concurrently, the other request pays.
    """
    event = record_event_once(
        campaign.workspace_id,
        participation,
        "signup_confirmed",
        external_id=f"confirm:{participation.id}",
    )
    if event is None:
        return []
    people = chain_of(participation)
    timeline = Timeline(campaign.workspace_id)  # written with the payments' own events
    if participation.referrer_id is not None:
        _tell_the_referrer(timeline, participation, people.get(participation.referrer_id))
    webhooks.participant_confirmed(campaign.workspace_id, participation)
    if campaign.kind == "trial":
        timeline.write()  # the events in the order they happen: the trial starts after
        trials.start_trial(campaign, participation)
    return pay_for_event(event, participation, campaign, people, timeline)


def _tell_the_referrer(
    timeline: Timeline, friend: Participation, referrer: Participation | None
) -> None:
    """ "My friend joined": on the referrer's timeline, once per friend (a journey trigger)."""
    if referrer is None:
        return
    timeline.add(
        referrer,
        "referral_confirmed",
        external_id=f"referral:{friend.id}",
        data={"friend_participation_id": friend.id},
    )


def _current(participation_id: int) -> tuple[Participation, Campaign]:
    """The participation as stored now (a concurrent change included) and its campaign (as
    ``campaign_rows.campaign_by_id`` keeps it). Locked: a concurrent confirmation waits,
    then finds it confirmed (counted once)."""
    found = rows_where(Participation, "id", [participation_id], for_update=True, refresh=True)
    if not found:
        raise NotFound(N_("No such participant."))
    return found[0], campaign_by_id(found[0].campaign_id)


def _confirm(participation: Participation, campaign: Campaign) -> list[LedgerEntry]:
    if participation.status == "rejected":
        raise Conflict(N_("This participation was rejected and cannot be confirmed."))
    if participation.confirmed_at is not None:
        return []
    lottery.check_entries_open(campaign)  # a late confirmation would change frozen entries
    before = participation.status
    after = "confirmed" if before == "pending" else before
    update_row(participation, {"confirmed_at": utcnow(), "status": after})
    counters.moved([(participation, before, after)])
    return record_confirmed(campaign, participation)


@atomic
def confirm_participation(participation: Participation) -> tuple[Participation, list[LedgerEntry]]:
    """Mark the address confirmed and pay ``signup_confirmed`` rules, exactly once.

    Confirming again (or concurrently) changes nothing and pays nothing more. A flagged
    participation records its confirmation but stays flagged for review (rewards held).

    :raise Conflict: for a rejected participation.
    """
    identity = inspect(participation).identity  # the id, without loading an expired row
    participation, campaign = _current(identity[0] if identity else participation.id)
    keep_loaded(participation)
    return participation, _confirm(participation, campaign)


_LINK = (
    select(*ConfirmationToken.__table__.c, *Participation.__table__.c)
    .join_from(
        ConfirmationToken, Participation, ConfirmationToken.participation_id == Participation.id
    )
    .where(ConfirmationToken.token_hash == bindparam("digest", type_=String))
    .with_for_update()
)


def _link(token: str) -> tuple[ConfirmationToken, Participation] | None:
    """The link of ``token`` and its participation as stored now, both locked (PostgreSQL
    locks the rows of every table a ``FOR UPDATE`` reads; SQLite takes its write lock)."""
    found = first_row(_LINK, {"digest": _digest(token or "")})
    if found is None:
        return None
    names = table_attributes(ConfirmationToken)
    link = dict(zip(names, found[: len(names)], strict=True))
    person = dict(zip(table_attributes(Participation), found[len(names) :], strict=True))
    return (
        as_loaded(ConfirmationToken, link, refresh=True),
        as_loaded(Participation, person, refresh=True),
    )


@atomic
def confirm_by_token(token: str) -> tuple[Participation, bool]:
    """Confirm through the e-mailed link. Returns the participation and whether this use
    confirmed it (False: the link had been used already).

    The link's row and its participation are read as stored now and locked, in one query
    (as in :func:`_current`): a concurrent use of the same link waits, then finds it used.

    :raise NotFound: unknown token.  :raise LinkExpired: (a Conflict) expired token.
    """
    found = _link(token)
    if found is None:
        raise NotFound(N_("This confirmation link is not valid."))
    row, participation = found
    campaign = campaign_by_id(participation.campaign_id)
    keep_loaded(participation)
    if row.used_at is not None:
        return participation, False
    if row.expires_at < utcnow():
        raise LinkExpired(
            N_("This confirmation link has expired. Join again to get a new one."), campaign
        )
    update_row(row, {"used_at": utcnow()})
    _confirm(participation, campaign)
    return participation, True


@atomic
def resend_confirmation(participation: Participation, compose: Composer) -> str:
    """A fresh confirmation link for a pending participation (older links keep working)."""
    customer = db.session.get(Customer, participation.customer_id)
    assert customer is not None
    return send_link(participation, customer, compose)
