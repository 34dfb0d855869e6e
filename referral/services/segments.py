"""A workspace's customers narrowed by a filter (``domain.segments``), a page at a time for
the admin and the API, and the saved segments that name a filter.

Every condition is one ``EXISTS`` (or ``IN``) on an indexed key of the customer: the
participations by ``customer_id`` (or the unique (campaign, customer) pair), the tags by
(workspace, tag), the timeline by (customer, time), the consent records by customer and
the ledger by participation. The rows of a page and what each shows (campaigns joined,
tags) are read in a fixed number of queries, however long the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from referral.domain.consent_topics import GIVEN, TRANSACTIONAL
from referral.domain.errors import N_, ValidationFailed
from referral.domain.segments import CustomerFilter, checked_name, parse_filter
from referral.extensions import db
from referral.models import (
    Campaign,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Participation,
    Segment,
)
from referral.models.journey import CustomerTag
from referral.services import audit, cursors
from referral.services.customer_tags import tags_by_customer
from referral.services.participants import PER_PAGE, Page
from referral.services.privacy import Actor
from referral.services.scoping import NOT_FOUND, get_owned
from referral.services.tx import atomic

NAME_TAKEN = N_("A segment of this name exists already: choose another name.")


@dataclass(frozen=True)
class CustomerRow:
    """A customer of the list: how many campaigns they joined and their tags."""

    customer: Customer
    campaigns: int
    tags: list[str]


def checked_filter(workspace_id: int, params: Mapping[str, Any], under: str = "") -> CustomerFilter:
    """``domain.segments.parse_filter``, with ``campaign`` one of the workspace's.

    :raise ValidationFailed: naming every parameter that is not valid (another workspace's
        campaign is no campaign), each name after ``under`` (``filters.`` for the API).
    """
    try:
        found = parse_filter(params)
        if found.campaign is not None:
            owned = db.session.scalar(
                select(Campaign.id).where(
                    Campaign.id == found.campaign, Campaign.workspace_id == workspace_id
                )
            )
            if owned is None:
                raise ValidationFailed.on("campaign", NOT_FOUND["campaign"])
    except ValidationFailed as error:
        if not under:
            raise
        named = {under + name: said for name, said in error.messages.items()}
        raise ValidationFailed(error.template, named, error.params) from None
    return found


def campaign_choices(workspace_id: int) -> list[tuple[int, str]]:
    """(id, name) of the workspace's campaigns, by name, for the list's filter."""
    query = select(Campaign.id, Campaign.name).where(Campaign.workspace_id == workspace_id)
    return [(i, n) for i, n in db.session.execute(query.order_by(Campaign.name, Campaign.id))]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _participation(found: CustomerFilter) -> ColumnElement[bool] | None:
    """One participation of the customer meets every participation condition."""
    conditions = []
    if found.campaign is not None:
        conditions.append(Participation.campaign_id == found.campaign)
    if found.status:
        conditions.append(Participation.status == found.status)
    if found.channel:
        conditions.append(Participation.channel == found.channel)
    if found.generation is not None:
        conditions.append(Participation.depth == found.generation)
    if not conditions:
        return None
    return exists().where(Participation.customer_id == Customer.id, *conditions)


def _points(found: CustomerFilter) -> ColumnElement[bool]:
    """The balance (approved and pending points) is at least ``points_min``."""
    balance = (
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(Participation, Participation.id == LedgerEntry.participation_id)
        .where(
            Participation.customer_id == Customer.id,
            LedgerEntry.reward == "points",
            LedgerEntry.status != "void",
        )
    )
    if found.campaign is not None:
        balance = balance.where(Participation.campaign_id == found.campaign)
    return balance.correlate(Customer).scalar_subquery() >= found.points_min


def _active_since(day: date) -> ColumnElement[bool]:
    """Some activity on ``day`` or later: the first appearance or a timeline event."""
    since = _start(day)
    return or_(
        Customer.created_at >= since,
        exists().where(Event.customer_id == Customer.id, Event.occurred_at >= since),
    )


def _subscribed(topic: str) -> ColumnElement[bool]:
    """The latest consent record of ``topic`` (by time, then by writing order) gives it."""
    record = aliased(ConsentRecord)
    later = aliased(ConsentRecord)
    newer = exists().where(
        later.customer_id == record.customer_id,
        later.purpose == topic,
        or_(
            later.given_at > record.given_at,
            and_(later.given_at == record.given_at, later.id > record.id),
        ),
    )
    return exists().where(
        record.customer_id == Customer.id,
        record.purpose == topic,
        record.action == GIVEN,
        not_(newer),
    )


def _search(term: str) -> ColumnElement[bool]:
    lower = term.lower()
    return or_(
        func.lower(Customer.email_display).contains(lower, autoescape=True),
        Customer.email.contains(lower, autoescape=True),
        func.lower(Customer.name).contains(lower, autoescape=True),
    )


def _conditions(workspace_id: int, found: CustomerFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Customer.workspace_id == workspace_id]
    if found.q:
        conditions.append(_search(found.q))
    if (taking_part := _participation(found)) is not None:
        conditions.append(taking_part)
    if found.tag:
        tagged = select(CustomerTag.customer_id).where(
            CustomerTag.workspace_id == workspace_id, CustomerTag.tag == found.tag
        )
        conditions.append(Customer.id.in_(tagged))
    if found.points_min is not None:
        conditions.append(_points(found))
    if found.active_after is not None:
        conditions.append(_active_since(found.active_after))
    if found.active_before is not None:
        conditions.append(not_(_active_since(found.active_before)))
    if found.topic and found.topic != TRANSACTIONAL:
        conditions.append(_subscribed(found.topic))
    return conditions


def customer_query(workspace_id: int, found: CustomerFilter) -> Select[Any]:
    """The workspace's customers that meet ``found`` (no order)."""
    return select(Customer).where(*_conditions(workspace_id, found))


def _campaign_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(Participation.customer_id, func.count(Participation.id))
        .where(Participation.customer_id.in_(ids))
        .group_by(Participation.customer_id)
    )
    return {customer_id: int(count) for customer_id, count in rows}


def rows_of(customers: list[Customer]) -> list[CustomerRow]:
    """The customers with their campaigns and tags (two queries for any number)."""
    ids = [c.id for c in customers]
    counts = _campaign_counts(ids)
    tags = tags_by_customer(ids)
    return [CustomerRow(c, counts.get(c.id, 0), tags.get(c.id, [])) for c in customers]


def customer_page(
    workspace_id: int, found: CustomerFilter, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """One page of the customers that meet ``found``, newest first (a page past the last is
    the last), as :class:`CustomerRow`."""
    query = customer_query(workspace_id, found)
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = min(max(1, page), max(1, -(-total // per_page)))
    ordered = query.order_by(Customer.id.desc()).limit(per_page).offset((page - 1) * per_page)
    return Page(rows_of(list(db.session.scalars(ordered))), total, page, per_page)


def customer_cursor_page(
    workspace_id: int, found: CustomerFilter, limit: Any, cursor: str | None
) -> cursors.CursorPage[CustomerRow]:
    """The API's pages of the customers that meet ``found``, in id order.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    found_page = cursors.page(customer_query(workspace_id, found), Customer.id, limit, cursor)
    return cursors.CursorPage(rows_of(found_page.items), found_page.next_cursor)


# --- saved segments ----------------------------------------------------------------------------


def list_segments(workspace_id: int) -> list[Segment]:
    """The workspace's segments by name."""
    query = select(Segment).where(Segment.workspace_id == workspace_id)
    return list(db.session.scalars(query.order_by(Segment.name, Segment.id)))


def segment_page(workspace_id: int, limit: Any, cursor: str | None) -> cursors.CursorPage[Any]:
    """The API's pages of the workspace's segments, in id order.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = select(Segment).where(Segment.workspace_id == workspace_id)
    return cursors.page(query, Segment.id, limit, cursor)


def find_segment(workspace_id: int, segment_id: object) -> Segment:
    """:raise NotFound: for another workspace's segment as for one that does not exist."""
    return get_owned(Segment, segment_id, workspace_id)


def segment_filter(segment: Segment) -> CustomerFilter:
    """The segment's filter, checked again (a campaign it names may have gone: then it
    matches nobody rather than everybody)."""
    try:
        return checked_filter(segment.workspace_id, segment.filters)
    except ValidationFailed:
        return CustomerFilter(campaign=0)


def _audit(action: str, segment: Segment, by: Actor) -> None:
    audit.record(
        action,
        f"segment:{segment.id}",
        workspace_id=segment.workspace_id,
        marketer_id=by.marketer_id,
        actor=by.label,
        ip_hash=by.ip_hash,
        data={"name": segment.name, "filters": segment.filters},
    )


def _flush_named(segment: Segment) -> None:
    """:raise ValidationFailed: on ``name`` when another segment of the workspace has it."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ValidationFailed.on("name", NAME_TAKEN) from None


@atomic
def save_segment(
    workspace_id: int, name: object, params: Mapping[str, Any], by: Actor, under: str = ""
) -> Segment:
    """A new segment of the workspace named ``name`` (unique there) for the filter of
    ``params``; audited as ``segment.created``.

    :raise ValidationFailed: on ``name`` or on the filter's parameters (named after
        ``under``).
    """
    clean = checked_name(name)
    found = checked_filter(workspace_id, params, under)
    segment = Segment(workspace_id=workspace_id, name=clean, filters=found.to_params())
    db.session.add(segment)
    _flush_named(segment)
    _audit("segment.created", segment, by)
    return segment


@atomic
def change_segment(
    segment: Segment, name: object, params: Mapping[str, Any], by: Actor, under: str = ""
) -> Segment:
    """Rename the segment and give it the filter of ``params``; audited as
    ``segment.changed``.

    :raise ValidationFailed: on ``name`` or on the filter's parameters (named after
        ``under``); nothing is changed then.
    """
    clean = checked_name(name)
    filters = checked_filter(segment.workspace_id, params, under).to_params()
    segment.name, segment.filters = clean, filters
    _flush_named(segment)
    _audit("segment.changed", segment, by)
    return segment


@atomic
def delete_segment(segment: Segment, by: Actor) -> None:
    """Delete the segment (the customers stay as they are); audited as ``segment.deleted``."""
    _audit("segment.deleted", segment, by)
    db.session.delete(segment)
