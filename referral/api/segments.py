"""Saved segments (named filters of the customer list, as in the admin): create, list, read,
change, delete, and the customers each holds now; a customer's tags put on or taken off one
at a time."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from apiflask.schemas import EmptySchema
from apiflask.validators import Length, OneOf
from flask import Response, g

from referral.api.auth import caller
from referral.api.journey_schemas import TagsOut
from referral.api.lookup import owned_customer
from referral.api.openapi import FILE_CONTENT
from referral.api.operations import acts, changes, created, creates, lists, operation, reads
from referral.api.schemas import Text, _Out, _time_out
from referral.domain.consent_topics import TOPICS
from referral.domain.segments import CHANNEL_MAX, NAME_MAX, SEARCH_MAX, STATUSES
from referral.domain.tags import TAG_MAX
from referral.services import journey_api, segment_exports, segments
from referral.services.ids import parse_id
from referral.services.privacy import Actor

FILTERS = (
    "The conditions, as the query parameters of the admin's customer list: `q`, `campaign` "
    "(an id), `status`, `tag`, `channel`, `generation` (the referral depth, 0 for those who "
    "came on their own), `points_min`, `active_after`, `active_before` (dates, UTC) and "
    "`topic` (a subscription topic). A customer meets every one; a participation's "
    "conditions hold for one participation."
)


_DIGITS = {"pattern": "^[0-9]{1,10}$"}
_DAY = {"format": "date", "description": "A UTC day, YYYY-MM-DD."}


class SegmentFilters(Schema):
    """The conditions of a segment, each as the text of a query parameter of the list."""

    q = Text(validate=Length(max=SEARCH_MAX), metadata={"description": "In address or name."})
    campaign = Text(validate=Length(1, 10), metadata={**_DIGITS, "description": "An id."})
    status = Text(validate=OneOf(STATUSES))
    tag = Text(validate=Length(1, TAG_MAX))
    channel = Text(validate=Length(max=CHANNEL_MAX))
    generation = Text(
        validate=Length(1, 10), metadata={**_DIGITS, "description": "The referral depth."}
    )
    points_min = Text(validate=Length(1, 10), metadata=_DIGITS)
    active_after = Text(validate=Length(10, 10), metadata=_DAY)
    active_before = Text(validate=Length(10, 10), metadata=_DAY)
    topic = Text(validate=OneOf(TOPICS))


class SegmentIn(Schema):
    name = Text(required=True, validate=Length(1, NAME_MAX))
    filters = Nested(SegmentFilters, load_default=dict, metadata={"description": FILTERS})


class SegmentPatch(Schema):
    name = Text(validate=Length(1, NAME_MAX))
    filters = Nested(
        SegmentFilters, metadata={"description": FILTERS + " Replaces the segment's filter."}
    )


class SegmentOut(_Out):
    """Dumps a :class:`Segment`."""

    id = String(required=True)
    name = String(required=True)
    filters = Dict(keys=String(), values=String(), required=True, metadata={"description": FILTERS})
    created_at = _time_out(required=True)
    updated_at = _time_out(required=True)


class SegmentPage(_Out):
    items = List(Nested(SegmentOut), required=True)
    next_cursor = String(required=True, allow_none=True)


class SegmentCustomerOut(_Out):
    """Dumps a ``services.segments.CustomerRow``."""

    id = String(required=True, attribute="customer.id")
    email = String(
        required=True,
        allow_none=True,
        attribute="customer.email_display",
        metadata={"description": "Empty once erased."},
    )
    name = String(required=True, attribute="customer.name")
    locale = String(required=True, allow_none=True, attribute="customer.locale")
    tags = List(String(), required=True, metadata={"description": "Sorted."})
    campaigns = Integer(required=True, metadata={"description": "How many they joined."})
    created_at = _time_out(required=True, attribute="customer.created_at")


class SegmentCustomerPage(_Out):
    items = List(Nested(SegmentCustomerOut), required=True)
    next_cursor = String(required=True, allow_none=True)


def _segment(segment_id: str) -> Any:
    """:raise NotFound: for a malformed, unknown or other workspace's segment id alike."""
    return segments.find_segment(g.workspace_id, parse_id(segment_id) or 0)


def _actor() -> Actor:
    who = caller()
    return Actor(label=who["actor"], ip_hash=who["ip_hash"])


# Creating is registered before listing: the document then names SegmentOut once (a page
# registered first would bring in a second copy of it).
@creates(
    "POST /segments",
    "createSegment",
    "Save a segment",
    SegmentOut,
    "The new segment.",
    body=SegmentIn,
    description="A named filter of the workspace's customers, as a marketer saves one on the "
    "customer list; audited as `segment.created`. A name another segment of the workspace "
    "has answers 422 naming `name`; a filter value the rules refuse (a campaign of no "
    "campaign of the workspace, a day that does not exist, a bad tag) 422 naming it "
    "(`filters.campaign`).",
)
def create_segment(data: dict[str, Any]) -> Any:
    segment = segments.save_segment(
        g.workspace_id, data["name"], data["filters"], _actor(), under="filters."
    )
    return created(segment, "api.get_segment", segment_id=str(segment.id))


@reads(
    "GET /segments/<segment_id>",
    "getSegment",
    "Get a saved segment",
    SegmentOut,
    "The segment.",
)
def get_segment(segment_id: str) -> Any:
    return _segment(segment_id)


@lists(
    "GET /segments",
    "listSegments",
    "List saved segments",
    SegmentPage,
    "A page of the workspace's segments, oldest first.",
    description="The segments marketers saved on the admin's customer list, each a name "
    "and its filter.",
)
def list_segments(query: dict[str, Any]) -> Any:
    return segments.segment_page(g.workspace_id, query.get("limit"), query.get("cursor"))


@lists(
    "GET /segments/<segment_id>/customers",
    "listSegmentCustomers",
    "List a segment's customers",
    SegmentCustomerPage,
    "A page of the customers the segment's filter holds now, in id order.",
    description="The filter is applied when asked, so the customers follow what they do. "
    "A segment whose campaign was deleted holds nobody.",
)
def list_segment_customers(segment_id: str, query: dict[str, Any]) -> Any:
    segment = _segment(segment_id)
    return segments.customer_cursor_page(
        g.workspace_id, segments.segment_filter(segment), query.get("limit"), query.get("cursor")
    )


FILE_CONTENT["exportSegment"] = {"text/csv": {"schema": {"type": "string"}}}


@reads(
    "GET /segments/<segment_id>/export",
    "exportSegment",
    "Export a segment's customers as CSV",
    EmptySchema,
    "The CSV of the customers the segment's filter holds now, in id order: a header line, "
    "then one line per customer.",
    description="The file the admin downloads from the segment: the columns "
    + ", ".join(f"`{c}`" for c in segment_exports.COLUMNS)
    + " (`tags` separated by `, `; an erased customer's address empty). A cell a spreadsheet "
    "would run as a formula (starting with `=`, `+`, `-` or `@`) gets a leading `'`. Audited as "
    "`export.customers`, naming the segment and its filter.",
)
def export_segment(segment_id: str) -> Any:
    segment = _segment(segment_id)
    found = segments.segment_filter(segment)
    segment_exports.start_export(g.workspace_id, found, _actor(), segment)
    text = "".join(segment_exports.customer_lines(g.workspace_id, found))
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="segment-{segment.id}.csv"'
    response.cache_control.no_store = True
    return response


@changes(
    "PATCH /segments/<segment_id>",
    "updateSegment",
    "Change a segment",
    SegmentOut,
    "The changed segment.",
    body=SegmentPatch,
    description="Renames the segment or gives it another filter (the whole filter: the "
    "conditions not sent are dropped); audited as `segment.changed`. Problems answer 422 "
    "as on creation, and nothing changes.",
)
def patch_segment(segment_id: str, data: dict[str, Any]) -> Any:
    segment = _segment(segment_id)
    return segments.change_segment(
        segment,
        data.get("name", segment.name),
        data.get("filters", segment.filters),
        _actor(),
        under="filters.",
    )


@operation(
    "DELETE /segments/<segment_id>",
    "deleteSegment",
    "Delete a segment",
    EmptySchema,
    "Deleted.",
    status=204,
    description="The segment goes; its customers stay as they are. Audited as `segment.deleted`.",
    errors=(401, 404),
)
def delete_segment(segment_id: str) -> Any:
    segments.delete_segment(_segment(segment_id), _actor())
    return ""


@acts(
    "PUT /customers/<customer_id>/tags/<tag>",
    "putCustomerTag",
    "Put a tag on a customer",
    TagsOut,
    "The customer's tags, and whether this one was new.",
    description="As `POST /customers/{customer_id}/tags` with `add: [tag]`: the tag is "
    "stored lower-cased (`VIP` is `vip`), a new one starts the running journeys of that tag "
    "and is audited; putting a tag they have changes nothing. A bad tag answers 422, an "
    "erased customer 409.",
    errors=(401, 404, 409, 422),
)
def put_customer_tag(customer_id: str, tag: str) -> Any:
    return journey_api.change_tags(owned_customer(customer_id), [tag], [], _actor())


@acts(
    "DELETE /customers/<customer_id>/tags/<tag>",
    "deleteCustomerTag",
    "Take a tag off a customer",
    TagsOut,
    "The customer's tags, and whether they had this one.",
    description="As `POST /customers/{customer_id}/tags` with `remove: [tag]` (audited when "
    "they had it); taking off a tag they lack changes nothing. A bad tag answers 422, an "
    "erased customer 409.",
    errors=(401, 404, 409, 422),
)
def delete_customer_tag(customer_id: str, tag: str) -> Any:
    return journey_api.change_tags(owned_customer(customer_id), [], [tag], _actor())
