"""Joining a campaign: one participation per person, its referrer decided once.

Who the person is lives in ``services.identity``, what looks suspicious in
``services.fraud_signals``, and the double opt-in that follows in ``services.confirmation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from referral.domain import attribution
from referral.domain.codes import new_code
from referral.domain.errors import N_, Conflict, NotFound
from referral.extensions import db
from referral.hashing import hash_ip, keyed_hash
from referral.models import (
    Campaign,
    ConsentRecord,
    Customer,
    LedgerEntry,
    Participation,
)
from referral.models.base import utcnow
from referral.services import counters, fraud_signals, lottery
from referral.services.campaign_rows import SLUG_MAX, campaign_by_slug
from referral.services.confirmation import (
    Composer,
    awaits_confirmation,
    record_confirmed,
    resend_confirmation,
    send_link,
)
from referral.services.events import record_event
from referral.services.identity import (
    CHANNEL_MAX,
    check_fields,
    check_permanent,
    find_or_create_customer,
)
from referral.services.privacy import clip_user_agent
from referral.services.rows import insert, insert_row_once
from referral.services.tx import atomic, keep_loaded


@dataclass(frozen=True)
class Visitor:
    """Where a request came from. Raw values are hashed before anything is stored."""

    ip: str | None = None
    user_agent: str | None = None
    visitor_id: str | None = None
    page: str = ""

    def hashes(self, secret: str) -> tuple[str | None, str | None, str | None]:
        """(ip, user agent, visitor id) as keyed hashes under ``secret``."""
        agent = keyed_hash(secret, self.user_agent, "agent") if self.user_agent else None
        visitor = keyed_hash(secret, self.visitor_id, "visitor") if self.visitor_id else None
        return hash_ip(secret, self.ip), agent, visitor


@dataclass
class JoinRequest:
    email: str
    name: str = ""
    locale: str | None = None
    referral_code: str | None = None
    touched_at: datetime | None = None
    channel: str = "direct"
    utm: dict[str, str] = field(default_factory=dict)
    consent_text: str | None = None
    consent_version: str | None = None
    # What the consent is for: the campaign's terms (the landing page), or marketing.
    consent_purpose: str = "campaign_terms"
    confirmed: bool = False


@dataclass
class JoinResult:
    participation: Participation
    created: bool
    token: str | None = None
    rewards: list[LedgerEntry] = field(default_factory=list)


def is_open(campaign: Campaign, now: datetime | None = None) -> bool:
    """Live, started and not ended."""
    now = now or utcnow()
    if campaign.status != "live":
        return False
    if campaign.starts_at and now < campaign.starts_at:
        return False
    return not (campaign.ends_at and now >= campaign.ends_at)


def public_campaign(slug: str) -> Campaign:
    """A campaign as the public may see it: any status but ``draft``.

    :raise NotFound: for an unknown slug or a draft.
    """
    found = campaign_by_slug(slug) if slug and len(slug) <= SLUG_MAX else None
    if found is None or found.status == "draft":
        raise NotFound(N_("This page does not exist."))
    return found


# Built once: the sign-up path runs them with its values as parameters.
_OF_CUSTOMER = select(Participation).where(
    Participation.campaign_id == bindparam("campaign_id"),
    Participation.customer_id == bindparam("customer_id"),
)


def _existing(campaign: Campaign, customer_id: int) -> Participation | None:
    found: Participation | None = db.session.scalar(
        _OF_CUSTOMER, {"campaign_id": campaign.id, "customer_id": customer_id}
    )
    return found


def _attribute(
    campaign: Campaign,
    customer: Customer,
    request: JoinRequest,
    visitor_hash: str | None,
    owner: Participation | None,
) -> tuple[Participation | None, str]:
    """The referrer the rules of ``domain.attribution`` accept (or None), and the status
    of the referral; ``owner`` is the participation of the request's referral code."""
    owner_info = None
    if owner is not None:
        owner_info = attribution.Referrer(
            owner.id, owner.campaign_id, owner.customer_id, owner.status, owner.visitor_hash
        )
    decided = attribution.attribute(
        code=request.referral_code,
        referrer=owner_info,
        campaign_id=campaign.id,
        customer_id=customer.id,
        visitor_hash=visitor_hash,
        touched_at=request.touched_at,
        now=utcnow(),
        window_days=campaign.attribution_days,
    )
    return (owner if decided.referrer_id is not None else None), decided.status


def _new_participation(
    campaign: Campaign, customer: Customer, request: JoinRequest, visitor: Visitor
) -> dict[str, Any]:
    """The columns of the person's new participation."""
    ip, agent, visitor_hash = visitor.hashes(current_app.config["SECRET_KEY"])
    found = fraud_signals.lookup(campaign, request.referral_code, ip, agent)
    referrer, referral_status = _attribute(campaign, customer, request, visitor_hash, found.owner)
    reasons = fraud_signals.flag_reasons(customer.email, found, referrer)
    status = "flagged" if reasons else ("confirmed" if request.confirmed else "pending")
    return {
        "campaign_id": campaign.id,
        "customer_id": customer.id,
        "referrer_id": referrer.id if referrer else None,
        "depth": referrer.depth + 1 if referrer else 0,
        "path": f"{referrer.path}{referrer.id}/" if referrer else "/",
        "referral_code": new_code(),
        "channel": (request.channel or "direct")[:CHANNEL_MAX] if referrer else "direct",
        "utm": {k: str(v)[:200] for k, v in request.utm.items() if k.startswith("utm_")},
        "status": status,
        "referral_status": referral_status,
        "flag_reasons": reasons,
        "ip_hash": ip,
        "agent_hash": agent,
        "visitor_hash": visitor_hash,
        "locale": request.locale,
        "confirmed_at": utcnow() if request.confirmed else None,
    }


def _inserted(campaign: Campaign, values: dict[str, Any]) -> tuple[Participation, bool]:
    """The participation stored from ``values`` and True, or the person's participation
    that a concurrent request stored first (the unique campaign and customer) and False."""
    stored = insert_row_once(Participation, values, ("campaign_id", "customer_id"))
    if stored is not None:
        return stored, True
    found = _existing(campaign, values["customer_id"])
    if found is None:
        raise Conflict(N_("Another request changed this at the same time; try again."))
    return found, False


def _record_consent(
    campaign: Campaign, participation: Participation, request: JoinRequest, visitor: Visitor
) -> None:
    """The consent exactly as it was shown, when the request carries one (append-only)."""
    if not request.consent_text:
        return
    insert(
        ConsentRecord,
        {
            "customer_id": participation.customer_id,
            "campaign_id": campaign.id,
            "purpose": request.consent_purpose,
            "text": request.consent_text,
            "version": request.consent_version or "1",
            "page": visitor.page[:500],
            "ip_hash": participation.ip_hash,
            "given_at": utcnow(),
            "user_agent": clip_user_agent(visitor.user_agent),
        },
    )


def _entered(
    campaign: Campaign,
    customer: Customer,
    participation: Participation,
    request: JoinRequest,
    visitor: Visitor,
    compose: Composer | None,
) -> JoinResult:
    """What a new participation brings: its consent, its ``entered`` event, and either the
    confirmation (an address the caller verified) or the e-mailed confirmation link."""
    _record_consent(campaign, participation, request, visitor)
    data = {
        "channel": participation.channel,
        "referral_status": participation.referral_status,
        "referrer_id": participation.referrer_id,
        **participation.utm,
    }
    record_event(campaign.workspace_id, participation, "entered", data=data)
    result = JoinResult(participation, created=True)
    if request.confirmed:
        result.rewards = record_confirmed(campaign, participation)
    else:
        result.token = send_link(participation, customer, compose)
    return result


@atomic
def join_campaign(
    campaign: Campaign,
    request: JoinRequest,
    visitor: Visitor | None = None,
    compose: Composer | None = None,
) -> JoinResult:
    """A person joins ``campaign``: one participation per person, whatever they retry.

    The same address again (also in another spelling that normalises alike) returns the
    existing participation with ``created=False`` and changes nothing. The referrer is
    decided here, once (see ``domain.attribution``). Unless ``request.confirmed`` (the caller
    verified the address), a single-use confirmation link is mailed through ``compose``.
    Suspicious sign-ups are flagged and their rewards held (``domain.fraud``).

    :raise ValidationFailed: bad e-mail/name, a blocked disposable address.
    :raise Conflict: the campaign is not open.
    """
    check_fields(request.email, request.name, request.channel)
    if not is_open(campaign):
        raise Conflict(N_("This campaign is not open for sign-ups."))
    check_permanent(campaign, request.email)  # before any write: a refusal stores nothing
    visitor = visitor or Visitor()
    customer, new_customer = find_or_create_customer(
        campaign.workspace_id, request.email, request.name, request.locale
    )
    found = None if new_customer else _existing(campaign, customer.id)
    if found is not None:
        return JoinResult(found, created=False)
    stored, created = _inserted(campaign, _new_participation(campaign, customer, request, visitor))
    if not created:
        return JoinResult(stored, created=False)
    counters.joined(stored)
    keep_loaded(stored)  # the pages and the API answer with it after the commit
    return _entered(campaign, customer, stored, request, visitor, compose)


@atomic
def join_from_page(
    campaign: Campaign,
    request: JoinRequest,
    visitor: Visitor,
    compose: Composer,
    *,
    birth_date: date | None = None,
    region: str | None = None,
) -> JoinResult:
    """The landing page's form: a prize draw's eligibility first (the birth date is checked,
    never kept), then :func:`join_campaign`; a known address that still has to confirm is
    sent a fresh link, so asking again always brings one.

    :raise ValidationFailed: not eligible, or as :func:`join_campaign`.
    :raise Conflict: the campaign is not open.
    """
    lottery.check_eligibility(campaign, birth_date, region)
    result = join_campaign(campaign, request, visitor, compose)
    if not result.created and awaits_confirmation(result.participation):
        resend_confirmation(result.participation, compose)
    return result
