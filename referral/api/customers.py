"""Customers' privacy requests: export everything stored about a person, or erase them.

A customer's id is the same kind of opaque string of digits as a participant's. Both
answers are audited (``customer.exported``, ``customer.erased``) under the API key, naming
the customer by id only.
"""

from __future__ import annotations

from typing import Any

from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from marshmallow import missing

from referral.api.auth import caller
from referral.api.lookup import owned_customer
from referral.api.operations import acts, reads
from referral.api.schemas import _Out, _time_out
from referral.services import privacy


class ExportedCustomer(_Out):
    id = String(required=True)
    email = String(required=True, allow_none=True, metadata={"description": "null once erased."})
    name = String(required=True)
    locale = String(required=True, allow_none=True)
    timezone = String(required=True, allow_none=True)
    birthday = String(
        metadata={
            "description": "Month and day only, as `--MM-DD`, present when the customer gave "
            "it with the birthday opt-in; a year is never stored."
        },
    )
    tags = List(String(), required=True)
    created_at = _time_out(required=True)
    erased_at = _time_out(required=True, allow_none=True)


class ExportedConsent(_Out):
    action = String(required=True, metadata={"enum": ["given", "withdrawn"]})
    purpose = String(required=True)
    text = String(required=True, metadata={"description": "Word for word, as agreed."})
    version = String(required=True)
    source = String(
        required=True,
        metadata={"description": "Where or how it was received: a page, `api`, `phone`, …"},
    )
    user_agent = String(required=True, allow_none=True)
    recorded_at = _time_out(required=True)
    given_at = _time_out(required=True)
    withdrawn_at = _time_out(required=True, allow_none=True)


class ExportedParticipation(_Out):
    id = String(required=True)
    campaign = String(required=True, allow_none=True)
    referral_code = String(required=True)
    referrer_id = String(required=True, allow_none=True)
    status = String(required=True)
    channel = String(required=True)
    utm = Dict(keys=String(), values=String(), required=True)
    locale = String(required=True, allow_none=True)
    created_at = _time_out(required=True)
    confirmed_at = _time_out(required=True, allow_none=True)


class ExportedEvent(_Out):
    kind = String(required=True)
    amount = Integer(required=True, allow_none=True)
    currency = String(required=True, allow_none=True)
    data = Dict(required=True)
    occurred_at = _time_out(required=True)


class ExportedReward(_Out):
    reward = String(required=True)
    amount = Integer(required=True)
    currency = String(required=True, allow_none=True)
    status = String(required=True)
    level = Integer(required=True)
    created_at = _time_out(required=True)


class ExportedAnswer(_Out):
    question = String(required=True)
    option = String(required=True, allow_none=True)
    number = Integer(required=True, allow_none=True)
    text = String(required=True, allow_none=True)
    answered_at = _time_out(required=True)


class ExportedMessage(_Out):
    kind = String(required=True)
    subject = String(required=True)
    status = String(required=True)
    created_at = _time_out(required=True)


class ExportedJourneyStep(_Out):
    journey = String(required=True)
    step = String(required=True)
    outcome = String(
        required=True, metadata={"description": "`entered`, `sent`, `skipped:<reason>`, …"}
    )
    at = _time_out(required=True)


class CustomerExportOut(_Out):
    customer = Nested(ExportedCustomer, required=True)
    consents = List(Nested(ExportedConsent), required=True)
    participations = List(Nested(ExportedParticipation), required=True)
    events = List(Nested(ExportedEvent), required=True)
    rewards = List(Nested(ExportedReward), required=True)
    survey_answers = List(Nested(ExportedAnswer), required=True)
    messages = List(Nested(ExportedMessage), required=True)
    journeys = List(Nested(ExportedJourneyStep), required=True)


class _Erased(Boolean):
    """Whether the customer's ``erased_at`` is set."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return super().get_value(obj, "erased_at", accessor, default)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> bool:
        return value is not None


class ErasedOut(_Out):
    """Dumps an erased :class:`Customer`."""

    id = String(required=True)
    erased = _Erased(required=True, metadata={"description": "Always true."})
    erased_at = _time_out(required=True)  # when it was first erased


def _actor() -> privacy.Actor:
    who = caller()
    return privacy.Actor(label=who["actor"], ip_hash=who["ip_hash"])


@reads(
    "GET /customers/<customer_id>/export",
    "exportCustomer",
    "Export a customer's data",
    CustomerExportOut,
    "Everything stored about the customer.",
    description="Everything stored about one customer (an access request): profile, the "
    "consents word for word with their history, participations, timeline events, rewards, "
    "survey answers, messages and the follow-up journey steps. The same document as the "
    "admin's *Export*. After an erasure it holds nothing personal. Every export is "
    "recorded in the audit log.",
)
def export_customer(customer_id: str) -> Any:
    return privacy.export_customer(owned_customer(customer_id), _actor())


@acts(
    "POST /customers/<customer_id>/erase",
    "eraseCustomer",
    "Erase a customer",
    ErasedOut,
    "The customer is erased (now or before).",
    description="Anonymises the customer: address, name, language, tags, hashed IPs and "
    "browser traces, free-text data and answers are removed. Their participations stay as "
    "nameless nodes, so the referral tree, other people's rewards and published draws do not "
    "change. Cannot be undone. Idempotent: erasing again answers 200 with the same body and "
    "changes nothing.",
    errors=(401, 404),
)
def erase_customer(customer_id: str) -> Any:
    customer = owned_customer(customer_id)
    privacy.erase_customer(customer, _actor())
    return customer
