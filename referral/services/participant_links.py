"""Signed tokens that name a participant in an address (their advocate page, their survey):
each kind of address signs with its own salt, so a token of one never opens another."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from referral.domain.errors import N_, NotFound
from referral.extensions import db
from referral.models import Customer, Participation

NOT_VALID = N_("This link is not valid.")


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def participant_token(participation: Participation, salt: str) -> str:
    """The signed part of an address that names ``participation``."""
    return _serializer(salt).dumps([participation.id, participation.referral_code])


def participant_of(token: str, salt: str) -> Participation:
    """:raise NotFound: for a forged, altered or stale token, a rejected participant, or one
    whose customer is erased (their pages are gone with their data)."""
    try:
        ident, code = _serializer(salt).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(NOT_VALID) from None
    found = db.session.get(Participation, ident) if isinstance(ident, int) else None
    if found is None or found.referral_code != code or found.status == "rejected":
        raise NotFound(NOT_VALID)
    if db.session.scalar(select(Customer.erased_at).where(Customer.id == found.customer_id)):
        raise NotFound(NOT_VALID)
    return found
