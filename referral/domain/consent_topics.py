"""Which mail a customer may receive: subscription topics and the cadence of marketing mail.

Topics are derived from the append-only consent records, never stored on their own: for
each topic the latest record wins (a withdrawal is a new record, so is a renewed opt-in).

- ``transactional`` (confirmations, a prize won): always, it answers something they did;
- ``marketing``: only after an explicit, recorded opt-in;
- ``birthday``: only after its own opt-in (which stores month and day alone); a marketing
  opt-in does not imply it, and withdrawing it leaves marketing as it was.

Before a journey sends, :func:`check_send` says whether the mail goes now, waits for the end
of the quiet hours, or is skipped, with the reason the customer's timeline shows:
``erased``, ``holdout``, ``no_consent``, ``quiet_hours`` or ``cap``. See docs/JOURNEYS.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from referral.domain.errors import N_, Message, ValidationFailed
from referral.domain.journey_dates import QuietHours

TRANSACTIONAL = "transactional"
MARKETING = "marketing"
BIRTHDAY = "birthday"
TOPICS = (TRANSACTIONAL, MARKETING, BIRTHDAY)
OPT_IN_TOPICS = (MARKETING, BIRTHDAY)
GIVEN = "given"
WITHDRAWN = "withdrawn"

# Why a mail did not go (the timeline's "skipped:<reason>").
ERASED = "erased"
HOLDOUT = "holdout"
NO_CONSENT = "no_consent"
QUIET_HOURS = "quiet_hours"
CAP = "cap"
REASONS = (ERASED, HOLDOUT, NO_CONSENT, QUIET_HOURS, CAP)

CAP_LIMIT_RANGE = (1, 50)
CAP_DAYS_RANGE = (1, 90)
HOLDOUT_MAX = 50
WHOLE_NUMBER = N_("Use a whole number from %(low)s to %(high)s for %(field)s.")


@dataclass(frozen=True)
class ConsentEntry:
    """One consent record as far as topics care: ``action`` is ``given`` or ``withdrawn``."""

    topic: str
    action: str
    at: datetime


def latest_entry(records: Iterable[ConsentEntry], topic: str) -> ConsentEntry | None:
    """The record that holds now for ``topic``: the latest; on the same instant, the one
    recorded last (the list is in the order it was written)."""
    found = [
        (entry.at, index, entry) for index, entry in enumerate(records) if entry.topic == topic
    ]
    return max(found, key=lambda row: (row[0], row[1]))[2] if found else None


def subscribed_topics(records: Iterable[ConsentEntry]) -> frozenset[str]:
    """Every topic the customer may be written about now (``transactional`` always)."""
    entries = list(records)
    opted = {t for t in OPT_IN_TOPICS if (e := latest_entry(entries, t)) and e.action == GIVEN}
    return frozenset({TRANSACTIONAL, *opted})


@dataclass(frozen=True)
class Cap:
    """At most ``limit`` marketing mails in any ``days`` days (a workspace's cap, by default
    3 in 7 days, or a journey's own)."""

    limit: int = 3
    days: int = 7

    def reached(self, sent_at: Iterable[datetime], now: datetime) -> bool:
        """Whether ``limit`` mails already went in the ``days`` days up to ``now``."""
        since = now - timedelta(days=self.days)
        return sum(1 for at in sent_at if since < at <= now) >= self.limit


# A workspace's cap until its owner changes it (``workspaces.mail_cap_limit``/``_days``).
DEFAULT_WORKSPACE_CAP = Cap()


def checked_cap(limit: object, days: object) -> Cap:
    """A cap from a form or the API. :raise ValidationFailed: on ``limit`` or ``days``."""
    errors: dict[str, list[str | Message]] = {}
    for name, value, (low, high) in (
        ("limit", limit, CAP_LIMIT_RANGE),
        ("days", days, CAP_DAYS_RANGE),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = [Message(WHOLE_NUMBER, {"low": low, "high": high, "field": name})]
    if errors:
        raise ValidationFailed(N_("The cap is not valid."), errors)
    assert isinstance(limit, int) and isinstance(days, int)
    return Cap(limit, days)


def in_holdout(journey_id: int, customer_id: int, percent: int) -> bool:
    """Whether the customer is in the journey's holdout group: ``percent`` of customers,
    picked by a hash of the two ids, so the same customer is always in or always out and
    the group can be compared with those who got the mail."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"holdout:{journey_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


@dataclass(frozen=True)
class Recipient:
    """What decides whether one customer may get one journey mail now.

    ``sent_at``: when non-transactional mail went to them from any journey of the workspace;
    ``journey_sent_at``: the same, from this journey only.
    """

    topics: frozenset[str]
    zone: ZoneInfo
    erased: bool = False
    held_out: bool = False
    sent_at: Sequence[datetime] = ()
    journey_sent_at: Sequence[datetime] = ()


@dataclass(frozen=True)
class Verdict:
    """``send``, ``defer`` (until ``retry_at``) or ``skip`` with a ``reason``; for a cap,
    ``scope`` says whose: ``workspace`` or ``journey``."""

    outcome: str
    reason: str | None = None
    retry_at: datetime | None = None
    scope: str | None = None

    @property
    def sends(self) -> bool:
        return self.outcome == "send"

    @property
    def log_outcome(self) -> str:
        """The step log's outcome: ``sent``, ``deferred:<reason>`` or ``skipped:<reason>``."""
        if self.sends:
            return "sent"
        return f"{'deferred' if self.outcome == 'defer' else 'skipped'}:{self.reason}"


SEND = Verdict("send")
QUIET_SKIP = Verdict("skip", QUIET_HOURS)


def check_send(
    topic: str,
    recipient: Recipient,
    now: datetime,
    *,
    workspace_cap: Cap = DEFAULT_WORKSPACE_CAP,
    journey_cap: Cap | None = None,
    quiet: QuietHours | None = None,
) -> Verdict:
    """Whether a mail about ``topic`` goes to ``recipient`` at ``now``.

    In order: an erased customer gets nothing; a transactional mail then goes; a customer
    in the holdout gets no journey mail; without the topic's consent nothing goes; inside
    quiet hours the mail waits for their end (or is skipped); then the workspace cap and
    the journey's cap. Quiet hours come before the caps so that a deferred mail is counted
    against the caps when it is actually sent.
    """
    if recipient.erased:
        return Verdict("skip", ERASED)
    if topic == TRANSACTIONAL:
        return SEND
    if recipient.held_out:
        return Verdict("skip", HOLDOUT)
    if topic not in recipient.topics:
        return Verdict("skip", NO_CONSENT)
    quiet_end = quiet.ends_after(now, recipient.zone) if quiet else None
    if quiet_end is not None:
        assert quiet is not None
        return Verdict("defer", QUIET_HOURS, quiet_end) if quiet.defer else QUIET_SKIP
    return _capped(recipient, now, workspace_cap, journey_cap)


def _capped(recipient: Recipient, now: datetime, workspace: Cap, journey: Cap | None) -> Verdict:
    if workspace.reached(recipient.sent_at, now):
        return Verdict("skip", CAP, scope="workspace")
    if journey is not None and journey.reached(recipient.journey_sent_at, now):
        return Verdict("skip", CAP, scope="journey")
    return SEND
