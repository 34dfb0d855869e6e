"""Bringing a marketer's own customers into a campaign: a file from the admin or a batch
from the API, each person added as a sign-up would add them.

**All or nothing.** One import is one transaction: the people are written in chunks of
:data:`CHUNK` rows (one multi-row statement per table and chunk), and a chunk that fails
rolls back every chunk before it, so a failed import leaves nothing behind and can simply be
run again.

**Idempotent.** A person who is in the campaign already (in any spelling of their address
that normalises alike) is skipped and counted as ``existing``; running the same file twice
adds nobody the second time. A row that cannot be added (an address without a deliverable
shape, a name too long, a throwaway address where the campaign blocks them, the same person
twice in one file) is an ``error`` with its reasons, and the others are added all the same.

**The same join path.** Customers and participations are inserted many rows a statement
(``rows.insert_all_once``, the unique keys keep a concurrent sign-up of the same person out),
each participation's columns are decided by the sign-up's own rules (attribution of a
referrer's code, fraud flags, status: ``joining``) and counted by ``counters`` exactly as a
sign-up is; then each new participation is entered as a sign-up is: its consent, its
``entered`` event, and its confirmation.

**Consent.** Every person added gets a consent record with purpose ``imported``, the
marketer's stated basis as its text and the import's channel (``import:csv``,
``import:api``) as where it was received. That purpose is no subscription topic: an import
never grants marketing (or birthday) mail, which still needs the person's own opt-in
(``domain.consent_topics``).

**Confirmed or pending.** By default imported people are ``pending`` and get the
confirmation mail through the outbox (double opt-in, as any sign-up); with ``confirmed``
the marketer vouches for the addresses: they are confirmed at once, the ``signup_confirmed``
rules pay, and no mail is queued.

Audited as ``participants.imported`` with the counts.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from referral.domain.emails import clean_email, normalise_email
from referral.domain.errors import N_, Conflict, DomainError, ValidationFailed
from referral.domain.imports import Person, Row, checked_basis
from referral.extensions import db
from referral.models import Campaign, ConsentRecord, Customer, Participation
from referral.models.base import utcnow
from referral.services import audit, counters
from referral.services.confirmation import Composer, record_confirmed, send_links
from referral.services.events import record_events
from referral.services.identity import check_fields, check_permanent
from referral.services.joining import JoinRequest, Visitor, _new_participation, is_open
from referral.services.rows import insert_many_once
from referral.services.tx import atomic

CHUNK = 500
MAX_BATCH = 1_000  # people per API call
CREATED, EXISTING, ERROR = "created", "existing", "error"
PURPOSE = "imported"
VERSION = "import-1"
CHANNEL = "import"


@dataclass
class Outcome:
    """What became of one person: ``created``, ``existing`` or ``error`` (with ``error``)."""

    person: Person
    result: str = CREATED
    participation: Participation | None = None
    error: DomainError | None = None


@dataclass
class ImportResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result == result)

    @property
    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in (CREATED, EXISTING, ERROR)}


def split_rows(rows: Sequence[Row]) -> tuple[list[Person], list[Outcome]]:
    """The people of the rows that read well, and an ``error`` outcome for each other row
    (its cells' reasons), to import together (``rejected`` of :func:`import_people`)."""
    people = [row.person for row in rows if row.person is not None]
    rejected = [
        Outcome(
            Person(row.email, line=row.line),
            ERROR,
            error=ValidationFailed(N_("Some fields are not valid."), row.errors),
        )
        for row in rows
        if row.person is None
    ]
    return people, rejected


def check_person(campaign: Campaign, person: Person) -> None:
    """The checks of a sign-up, on one person. :raise ValidationFailed: as ``join_campaign``."""
    check_fields(person.email, person.name, None)
    check_permanent(campaign, person.email)


def check_people(campaign: Campaign, people: Sequence[Person]) -> list[Outcome]:
    """Each person checked, and every repeat of a person earlier in the list refused (the
    normalised address decides); nothing is written."""
    first_line: dict[str, int] = {}
    outcomes = []
    for person in people:
        outcome = Outcome(person)
        try:
            check_person(campaign, person)
            key = normalise_email(person.email)
            if key in first_line:
                raise ValidationFailed.on(
                    "email",
                    N_("The same person is on line %(line)s already."),
                    {"line": first_line[key]},
                )
            first_line[key] = person.line
        except ValidationFailed as error:
            outcome.result, outcome.error = ERROR, error
        outcomes.append(outcome)
    return outcomes


def _chunks(items: list[Outcome]) -> Iterator[list[Outcome]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _customers(workspace_id: int, chunk: list[Outcome]) -> dict[str, Customer]:
    """The workspace's customers of the chunk's addresses (normalised), the new ones
    inserted (in the order of their addresses, so two imports that share people take the
    unique keys in the same order and never wait on each other in a circle); a birthday
    from the file is kept (month and day) where the customer had none."""
    now = utcnow()
    values: list[dict[str, Any]] = [
        {
            "workspace_id": workspace_id,
            "email": normalise_email(o.person.email),
            "email_display": clean_email(o.person.email),
            "name": o.person.name,
            "locale": o.person.locale,
            "created_at": now,
        }
        for o in chunk
    ]
    values.sort(key=lambda row: str(row["email"]))
    insert_many_once(Customer, values, ("workspace_id", "email"))
    keys = [row["email"] for row in values]
    found = db.session.scalars(
        select(Customer).where(Customer.workspace_id == workspace_id, Customer.email.in_(keys))
    ).all()
    by_key = {customer.email: customer for customer in found}
    for outcome in chunk:
        customer = by_key[normalise_email(outcome.person.email)]
        if outcome.person.birthday and customer.birthday_month is None:
            customer.birthday_month, customer.birthday_day = outcome.person.birthday
    return by_key


def _participations(campaign: Campaign, customer_ids: list[int]) -> dict[int, Participation]:
    found = db.session.scalars(
        select(Participation).where(
            Participation.campaign_id == campaign.id, Participation.customer_id.in_(customer_ids)
        )
    ).all()
    return {participation.customer_id: participation for participation in found}


def _request(person: Person, basis: str, confirmed: bool) -> JoinRequest:
    return JoinRequest(
        email=person.email,
        name=person.name,
        locale=person.locale,
        referral_code=person.referral_code,
        channel=CHANNEL,
        consent_text=basis,
        consent_version=VERSION,
        consent_purpose=PURPOSE,
        confirmed=confirmed,
    )


@dataclass
class _Batch:
    """What one import writes for each of its people: the same for everyone."""

    campaign: Campaign
    basis: str
    confirmed: bool
    visitor: Visitor
    compose: Composer | None


def _enter_all(batch: _Batch, entered: list[tuple[Customer, Participation]]) -> None:
    """What a sign-up brings, for every new participation of a chunk at once: the consent
    (purpose ``imported``, the basis word for word), the ``entered`` event (with its
    journeys and webhooks), then the confirmation (``confirmed``) or the mailed link."""
    campaign, now = batch.campaign, utcnow()
    db.session.execute(
        insert(ConsentRecord),
        [
            {
                "customer_id": p.customer_id,
                "campaign_id": campaign.id,
                "purpose": PURPOSE,
                "text": batch.basis,
                "version": VERSION,
                "page": batch.visitor.page,
                "ip_hash": None,
                "given_at": now,
                "user_agent": None,
            }
            for _c, p in entered
        ],
    )
    people = [p for _c, p in entered]
    data = [
        {"channel": p.channel, "referral_status": p.referral_status, "referrer_id": p.referrer_id}
        for p in people
    ]
    record_events(campaign.workspace_id, people, "entered", data)
    if batch.confirmed:
        for participation in people:
            record_confirmed(campaign, participation)
    else:
        send_links([(p, c) for c, p in entered], batch.compose)


def _import_chunk(batch: _Batch, chunk: list[Outcome]) -> None:
    """One chunk: customers, then participations (those already in the campaign skipped),
    many rows a statement; then the new ones counted and entered as sign-ups are."""
    campaign = batch.campaign
    customers = _customers(campaign.workspace_id, chunk)
    key_of = {id(o): normalise_email(o.person.email) for o in chunk}
    before = _participations(campaign, [c.id for c in customers.values()])
    new: list[tuple[Outcome, dict[str, Any]]] = []
    for outcome in chunk:
        customer = customers[key_of[id(outcome)]]
        if customer.id in before:
            outcome.result, outcome.participation = EXISTING, before[customer.id]
            continue
        request = _request(outcome.person, batch.basis, batch.confirmed)
        new.append((outcome, _new_participation(campaign, customer, request, batch.visitor)))
    if not new:
        return
    new.sort(key=lambda pair: pair[1]["customer_id"])
    insert_many_once(Participation, [values for _o, values in new], ("campaign_id", "customer_id"))
    stored = _participations(campaign, [values["customer_id"] for _o, values in new])
    deltas: Tally[counters.Key] = Tally()
    entered = []
    for outcome, values in new:
        participation = stored[values["customer_id"]]
        outcome.participation = participation
        if participation.referral_code != values["referral_code"]:
            outcome.result = EXISTING  # a concurrent sign-up of the same person came first
            continue
        deltas.update(counters.move_deltas(participation, None, participation.status))
        entered.append((customers[key_of[id(outcome)]], participation))
    counters.add(deltas)
    _enter_all(batch, entered)


@atomic
def import_people(
    campaign: Campaign,
    people: Sequence[Person],
    basis: str,
    *,
    confirmed: bool = False,
    source: str = "csv",
    compose: Composer | None = None,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
    rejected: Sequence[Outcome] = (),
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Add ``people`` to ``campaign`` (the module's docstring says how), in one transaction;
    each person's outcome in the order given.

    ``basis`` is the marketer's stated reason to write to them, kept as each one's consent
    text; ``source`` names the channel (``csv``, ``api``); ``compose`` writes the
    confirmation mail of a pending person (None: only the link is made); ``rejected`` are
    rows the caller could not read, reported (and counted) among the others by line;
    ``progress`` is told how many rows are done after each chunk.

    :raise ValidationFailed: on ``basis`` (empty or too long).
    :raise Conflict: the campaign is not open for sign-ups.
    """
    basis = checked_basis(basis)
    if not is_open(campaign):
        raise Conflict(N_("This campaign is not open for sign-ups."))
    checked = check_people(campaign, people)
    result = ImportResult(sorted([*checked, *rejected], key=lambda o: o.person.line))
    batch = _Batch(campaign, basis, confirmed, Visitor(page=f"{CHANNEL}:{source}"), compose)
    valid = [outcome for outcome in checked if outcome.result != ERROR]
    done = len(result.outcomes) - len(valid)
    for chunk in _chunks(valid):
        _import_chunk(batch, chunk)
        done += len(chunk)
        if progress is not None:
            progress(done)
    audit.record(
        "participants.imported",
        f"campaign:{campaign.id}",
        workspace_id=campaign.workspace_id,
        marketer_id=marketer_id,
        actor=actor,
        ip_hash=ip_hash,
        data={**result.counts, "confirmed": confirmed, "source": source},
    )
    return result
