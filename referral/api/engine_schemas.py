"""Schemas of the referral engine's endpoints: reward rules, participants, events, rewards,
spread. Types and ranges only; the business rules (depth cap, attribution) are the services'.
"""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError, validates_schema

from referral.api.schemas import Flag, ListQuery, PublicUrl, Text, Time, Whole, _Out, _time_out
from referral.domain.attribution import REFERRAL_STATUSES
from referral.domain.campaigns import LOCALES
from referral.domain.emails import clean_email
from referral.domain.errors import ValidationFailed
from referral.domain.rewards import REWARD_EVENTS
from referral.models import REWARDS
from referral.models.ledger import LEDGER_STATUSES
from referral.models.participation import PARTICIPATION_STATUSES
from referral.services.events import EXTERNAL_ID_MAX, REPORTABLE
from referral.services.identity import CHANNEL_MAX, NAME_MAX
from referral.services.rules import AMOUNT_MAX, MILESTONE_MAX

SPREAD_FORMATS = ("json", "graphml", "gexf", "csv")
_ID = {"description": "An id, as a string of digits."}
_CURRENCY = Regexp(r"^[A-Za-z]{3}\Z", error="Use a three-letter currency code, e.g. EUR.")


def _check_email(value: str) -> None:
    """The domain's rule, so that a bad address is named together with other bad fields."""
    try:
        clean_email(value)
    except ValidationFailed as error:
        raise ValidationError([m.text for m in error.messages.get("email", [])]) from None


def _id(**kw: object) -> String:
    return String(metadata=_ID, **kw)  # type: ignore[arg-type]  # marshmallow's field options


# --- reward rules ---------------------------------------------------------------------------


class RuleIn(Schema):
    """Exactly one of ``event`` and ``milestone``."""

    event = Text(
        validate=OneOf(REWARD_EVENTS),
        metadata={"description": "The event kind that pays (not with `milestone`)."},
    )
    milestone = Whole(
        validate=Range(min=1, max=MILESTONE_MAX),
        metadata={
            "description": "Pays when this many referrals are confirmed (not with "
            "`event`); level 0 or 1 only."
        },
    )
    level = Whole(
        required=True,
        metadata={
            "minimum": 0,
            "description": "0 = the actor, 1 = their referrer, 2 = the referrer's referrer. "
            "At most the campaign's `reward_depth` and this server's ceiling; levels 2+ pay "
            "only for `purchase` and `trial_converted`. Level 0 of `signup_confirmed` pays only "
            "a friend whom a confirmed advocate referred.",
        },
    )
    reward = Text(required=True, validate=OneOf(REWARDS))
    amount = Whole(
        required=True,
        validate=Range(min=1, max=AMOUNT_MAX),
        metadata={"description": "Points, entries, coupons, or cash in minor units (cents)."},
    )
    currency = Text(validate=_CURRENCY, metadata={"description": "ISO 4217; for cash."})


class RuleOut(_Out):
    id = String(required=True)
    campaign_id = String(required=True)
    event = String(required=True, allow_none=True)
    milestone = Integer(required=True, allow_none=True)
    level = Integer(required=True)
    reward = String(required=True, validate=OneOf(REWARDS))
    amount = Integer(required=True)
    currency = String(required=True, allow_none=True)
    active = Boolean(required=True)
    created_at = _time_out(required=True)


class RulePage(_Out):
    items = List(Nested(RuleOut), required=True)
    next_cursor = String(required=True, allow_none=True)


# --- participants ---------------------------------------------------------------------------


class ConsentIn(Schema):
    """The consent the person gave where the caller signed them up, word for word."""

    text = Text(
        required=True,
        validate=Length(1, 5000),
        metadata={"description": "The consent text exactly as the person saw it."},
    )
    version = Text(required=True, validate=Length(1, 32))
    source = Text(
        validate=Length(1, 200),
        metadata={
            "description": "Where it was given: the shop's page or app screen (default `api`)."
        },
    )


class ParticipantIn(Schema):
    email = Text(required=True, validate=[Length(1, 254), _check_email])
    name = Text(validate=Length(0, NAME_MAX))
    locale = Text(validate=OneOf(LOCALES), allow_none=True)
    referral_code = Text(
        validate=Length(0, 64),
        allow_none=True,
        metadata={
            "description": "The referrer's code. An unknown code or one's own code "
            "joins without a referrer; `referral_status` says why."
        },
    )
    channel = Text(
        validate=Length(1, CHANNEL_MAX),
        metadata={"description": "How they came: link, qr, whatsapp, email, …"},
    )
    confirmed = Flag(
        metadata={
            "description": "The caller has verified the address: no confirmation "
            "e-mail is sent and `signup_confirmed` rules pay at once."
        },
    )
    visitor_id = Text(
        validate=Length(1, 200),
        metadata={
            "description": "The shop's id of the browser or device (stored only as a "
            "keyed hash): the same device using its own referral code is a self-referral."
        },
    )
    consent = Nested(
        ConsentIn,
        metadata={
            "description": "The consent given on joining: recorded with the time and the "
            "request's User-Agent, shown on the customer's page and in their export."
        },
    )
    marketing = Flag(
        metadata={
            "description": "The consent covers marketing e-mails. Needs `consent` (its "
            "`text` and `version`); without it the answer is 422."
        },
    )

    @validates_schema
    def _marketing_needs_consent(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("marketing") and "consent" not in data:
            message = "Give the consent text and version the person agreed to."
            raise ValidationError({"consent": {"text": [message], "version": [message]}})


class ParticipantOut(_Out):
    id = String(required=True)
    campaign_id = String(required=True)
    customer_id = String(
        required=True,
        metadata={
            "description": "The person across campaigns: export or erase them under "
            "/customers/{customer_id}."
        },
    )
    email = String(required=True, attribute="customer.email_display", dump_default=None)
    name = String(required=True, attribute="customer.name", dump_default="")
    locale = String(required=True, allow_none=True)
    referral_code = String(required=True)
    referral_url = PublicUrl("/r/{}", "referral_code", required=True)
    qr_png_url = PublicUrl("/q/{}.png", "referral_code", required=True)
    qr_svg_url = PublicUrl("/q/{}.svg", "referral_code", required=True)
    referrer_id = String(required=True, allow_none=True)
    depth = Integer(required=True)
    channel = String(required=True)
    status = String(required=True, validate=OneOf(PARTICIPATION_STATUSES))
    referral_status = String(
        required=True,
        validate=OneOf(REFERRAL_STATUSES),
        metadata={
            "description": "`referred`, or why there is no referrer: `none` (no code), "
            "`unknown_code`, `self_referral`, `expired`, `referrer_ineligible`."
        },
    )
    created_at = _time_out(required=True)
    confirmed_at = _time_out(required=True, allow_none=True)
    referrals_confirmed = Integer(required=True)
    points = Integer(required=True)
    entry_id = String(
        allow_none=True,
        attribute="entry.entry_id",
        metadata={"description": "Lotteries: the entry's id once the entries are frozen."},
    )
    entries = Integer(
        attribute="entry.entries",
        metadata={"description": "Lotteries: entries held (one plus bonus entries)."},
    )


class ParticipantPage(_Out):
    items = List(Nested(ParticipantOut), required=True)
    next_cursor = String(required=True, allow_none=True)


class ParticipantQuery(ListQuery):
    status = Text(validate=OneOf(PARTICIPATION_STATUSES))


# --- events and the ledger ------------------------------------------------------------------


class EventIn(Schema):
    participant_id = Text(required=True, validate=Length(1, 20), metadata=_ID)
    kind = Text(required=True, validate=OneOf(REPORTABLE))
    amount = Whole(
        validate=Range(min=0, max=2**31 - 1),
        metadata={"description": "Minor units (cents)."},
    )
    currency = Text(validate=_CURRENCY)
    external_id = Text(
        validate=Length(1, EXTERNAL_ID_MAX),
        metadata={
            "description": "Your id of this event (an order number): the same one "
            "again is recorded and paid once."
        },
    )
    occurred_at = Time()
    purchase_external_id = Text(
        validate=Length(1, EXTERNAL_ID_MAX),
        metadata={
            "description": "Only with `kind` `refund`: the `external_id` of the purchase "
            "(of this participant in this campaign) it refunds. Every reward that purchase "
            "paid is made void (`reason` `refund`); a purchase not found answers 422."
        },
    )


class EventOut(_Out):
    id = String(required=True)
    campaign_id = String(required=True, allow_none=True)
    participant_id = String(required=True, allow_none=True, attribute="participation_id")
    kind = String(required=True)
    amount = Integer(required=True, allow_none=True)
    currency = String(required=True, allow_none=True)
    external_id = String(required=True, allow_none=True)
    occurred_at = _time_out(required=True)
    created_at = _time_out(required=True)


class LedgerOut(_Out):
    id = String(required=True)
    participant_id = String(required=True, attribute="participation_id")
    source_event_id = String(required=True)
    rule_id = String(required=True, allow_none=True)
    level = Integer(required=True)
    reward = String(required=True, validate=OneOf(REWARDS))
    amount = Integer(required=True)
    currency = String(required=True, allow_none=True)
    coupon_code = String(required=True, allow_none=True)
    status = String(required=True, validate=OneOf(LEDGER_STATUSES))
    reason = String(required=True)
    created_at = _time_out(required=True)


class Reported(_Out):
    event = Nested(EventOut, required=True)
    rewards = List(
        Nested(LedgerOut),
        required=True,
        metadata={"description": "The ledger entries this event paid."},
    )
    voided = List(
        Nested(LedgerOut),
        required=True,
        metadata={
            "description": "The ledger entries this report made void: a refund's of the "
            "purchase it names (empty otherwise, and on a repeat)."
        },
    )


class Balance(_Out):
    approved = Integer(required=True)
    pending = Integer(required=True)


class RewardsOut(_Out):
    participant_id = String(required=True)
    items = List(Nested(LedgerOut), required=True, metadata={"description": "Ledger entries."})
    next_cursor = String(required=True, allow_none=True)
    balances = Dict(
        keys=String(validate=OneOf(REWARDS)),
        values=Nested(Balance),
        required=True,
        metadata={"description": "Per reward kind, approved and pending totals."},
    )
    points = Integer(required=True, metadata={"description": "Approved plus pending points."})


# --- spread ---------------------------------------------------------------------------------


class SpreadQuery(Schema):
    format = Text(
        load_default="json",
        validate=OneOf(SPREAD_FORMATS),
        metadata={"description": "`json`: the metrics; `graphml`, `gexf`, `csv`: the graph."},
    )


class Advocate(_Out):
    id = String(required=True)
    label = String(allow_none=True)
    direct = Integer(required=True)
    subtree = Integer(required=True)


class TopAdvocates(_Out):
    by_direct = List(Nested(Advocate), required=True)
    by_subtree = List(Nested(Advocate), required=True)


class SpreadOut(_Out):
    size = Integer(required=True)
    confirmed = Integer(required=True)
    roots = Integer(required=True)
    max_depth = Integer(required=True)
    breadth_by_depth = List(Integer(), required=True)
    k_factor = Float(
        required=True,
        metadata={
            "description": "Confirmed participants who came through a referral ÷ "
            "confirmed participants."
        },
    )
    k_by_generation = List(Float(), required=True)
    viral_k = Float(
        required=True,
        metadata={
            "description": "Mean confirmed referrals per participant confirmed at least "
            "7 days ago (the viral coefficient)."
        },
    )
    k_mature_participants = Integer(
        required=True, metadata={"description": "How many participants viral_k is taken over."}
    )
    structural_virality = Float(required=True)
    structural_virality_largest = Float(required=True)
    referred_share = Float(required=True)
    median_time_to_first_referral_s = Float(required=True, allow_none=True)
    top_advocates = Nested(TopAdvocates, required=True)
    channels = Dict(keys=String(), values=Integer(), required=True)
