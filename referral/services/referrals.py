"""Joining a campaign, referral clicks and double opt-in confirmation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from disposable_email_domains import blocklist
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from referral.domain import attribution, fraud
from referral.domain.codes import new_code
from referral.domain.emails import clean_email, email_domain, normalise_email
from referral.domain.errors import N_, Conflict, Message, NotFound, ValidationFailed
from referral.extensions import db
from referral.hashing import hash_ip, keyed_hash
from referral.models import (
    Campaign,
    ConfirmationToken,
    ConsentRecord,
    Customer,
    Event,
    LedgerEntry,
    Participation,
    Workspace,
)
from referral.models.base import utcnow
from referral.services import lottery, outbox, trials, webhooks
from referral.services.privacy import clip_user_agent
from referral.services.rewards import pay_for_event
from referral.services.tx import retry_on_contention

TOKEN_TTL = timedelta(days=7)
NAME_MAX = 120
CHANNEL_MAX = 32


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


Composer = Callable[[Participation, Customer, str], outbox.Mail]


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
    found = db.session.scalar(select(Campaign).where(Campaign.slug == slug)) if slug else None
    if found is None or found.status == "draft":
        raise NotFound(N_("This page does not exist."))
    return found


def brand_name(campaign: Campaign) -> str:
    """The name of the brand (workspace) that runs ``campaign``, for consent texts."""
    workspace = db.session.get(Workspace, campaign.workspace_id)
    return workspace.name if workspace is not None else campaign.name


def awaits_confirmation(participation: Participation) -> bool:
    """Whether the person still has to click their confirmation link (rejected: never)."""
    return participation.confirmed_at is None and participation.status != "rejected"


class LinkExpired(Conflict):
    """A confirmation link past its time; names the campaign so the page can offer it."""

    def __init__(self, message: str, campaign_id: int) -> None:
        super().__init__(message)
        self.campaign_id = campaign_id


def find_by_code(code: str | None) -> Participation | None:
    if not code or len(code) > 32:
        return None
    return db.session.scalar(select(Participation).where(Participation.referral_code == code))


def _customer(campaign: Campaign, email: str, request: JoinRequest) -> Customer:
    """The workspace's customer for this address, created when new (race-safe)."""
    key = normalise_email(email)
    query = select(Customer).where(
        Customer.workspace_id == campaign.workspace_id, Customer.email == key
    )
    customer = db.session.scalar(query)
    if customer is not None:
        return customer
    customer = Customer(
        workspace_id=campaign.workspace_id,
        email=key,
        email_display=clean_email(email),
        name=request.name,
        locale=request.locale,
    )
    try:
        with db.session.begin_nested():
            db.session.add(customer)
    except IntegrityError:
        customer = db.session.scalar(query)
        if customer is None:
            raise
    return customer


def _check_request(request: JoinRequest) -> None:
    errors: dict[str, list[str | Message]] = {}
    try:
        clean_email(request.email)
    except ValidationFailed as error:
        # The templates, not the English text, so that the page can still translate them.
        errors.update((name, list(found)) for name, found in error.messages.items())
    if len(request.name or "") > NAME_MAX:
        errors["name"] = [Message(N_("Keep the name to %(max)s characters."), {"max": NAME_MAX})]
    if len(request.channel or "") > CHANNEL_MAX:
        errors["channel"] = [
            Message(N_("Keep the channel to %(max)s characters."), {"max": CHANNEL_MAX})
        ]
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)


def _check_disposable(campaign: Campaign, email: str) -> None:
    """:raise ValidationFailed: a throwaway address where the campaign blocks them."""
    blocked = campaign.settings.get("disposable_email") == "block"
    if blocked and email_domain(normalise_email(email)) in blocklist:
        raise ValidationFailed.on("email", N_("Please use a permanent e-mail address."))


def _signals(
    campaign: Campaign, ip: str | None, agent: str | None, referrer_id: int | None, disposable: bool
) -> fraud.Signals:
    now = utcnow()
    same_device = 0
    if ip:
        same_device = (
            db.session.scalar(
                select(func.count()).where(
                    Participation.campaign_id == campaign.id,
                    Participation.ip_hash == ip,
                    Participation.agent_hash == agent,
                    Participation.created_at > now - timedelta(days=1),
                )
            )
            or 0
        )
    recent = 0
    if referrer_id:
        recent = (
            db.session.scalar(
                select(func.count()).where(
                    Participation.referrer_id == referrer_id,
                    Participation.created_at > now - timedelta(hours=1),
                )
            )
            or 0
        )
    return fraud.Signals(disposable, same_device, recent)


def _new_participation(
    campaign: Campaign, customer: Customer, request: JoinRequest, visitor: Visitor
) -> Participation:
    ip, agent, visitor_hash = visitor.hashes(current_app.config["SECRET_KEY"])
    owner = find_by_code(request.referral_code)
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
    referrer = owner if decided.referrer_id is not None else None
    domain = email_domain(customer.email)
    disposable = domain in blocklist
    if disposable and campaign.settings.get("disposable_email") == "block":
        raise ValidationFailed.on("email", N_("Please use a permanent e-mail address."))
    reasons = fraud.flag_reasons(_signals(campaign, ip, agent, decided.referrer_id, disposable))
    status = "flagged" if reasons else ("confirmed" if request.confirmed else "pending")
    return Participation(
        campaign_id=campaign.id,
        customer_id=customer.id,
        referrer_id=referrer.id if referrer else None,
        depth=referrer.depth + 1 if referrer else 0,
        path=f"{referrer.path}{referrer.id}/" if referrer else "/",
        referral_code=new_code(),
        channel=(request.channel or "direct")[:CHANNEL_MAX] if referrer else "direct",
        utm={k: str(v)[:200] for k, v in request.utm.items() if k.startswith("utm_")},
        status=status,
        referral_status=decided.status,
        flag_reasons=reasons,
        ip_hash=ip,
        agent_hash=agent,
        visitor_hash=visitor_hash,
        locale=request.locale,
        confirmed_at=utcnow() if request.confirmed else None,
    )


def _record(
    campaign: Campaign,
    participation: Participation,
    kind: str,
    data: dict[str, Any],
    external_id: str | None = None,
) -> Event:
    event = Event(
        workspace_id=campaign.workspace_id,
        customer_id=participation.customer_id,
        campaign_id=campaign.id,
        participation_id=participation.id,
        kind=kind,
        external_id=external_id,
        data=data,
        occurred_at=utcnow(),
    )
    db.session.add(event)
    return event


def _issue_token(participation: Participation) -> str:
    token = secrets.token_urlsafe(24)
    db.session.add(
        ConfirmationToken(
            participation_id=participation.id,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=utcnow() + TOKEN_TTL,
        )
    )
    return token


def _existing(campaign: Campaign, customer_id: int) -> Participation | None:
    return db.session.scalar(
        select(Participation).where(
            Participation.campaign_id == campaign.id, Participation.customer_id == customer_id
        )
    )


@retry_on_contention
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
    _check_request(request)
    if not is_open(campaign):
        raise Conflict(N_("This campaign is not open for sign-ups."))
    _check_disposable(campaign, request.email)  # before any write: a refusal stores nothing
    visitor = visitor or Visitor()
    customer = _customer(campaign, request.email, request)
    found = _existing(campaign, customer.id)
    if found is not None:
        db.session.commit()
        return JoinResult(found, created=False)
    participation = _new_participation(campaign, customer, request, visitor)
    try:
        with db.session.begin_nested():
            db.session.add(participation)
    except IntegrityError:
        db.session.rollback()
        found = _existing(campaign, customer.id)
        if found is None:
            raise
        return JoinResult(found, created=False)
    if request.consent_text:
        db.session.add(
            ConsentRecord(
                customer_id=customer.id,
                campaign_id=campaign.id,
                purpose=request.consent_purpose,
                text=request.consent_text,
                version=request.consent_version or "1",
                page=visitor.page[:500],
                ip_hash=participation.ip_hash,
                given_at=utcnow(),
                user_agent=clip_user_agent(visitor.user_agent),
            )
        )
    _record(
        campaign,
        participation,
        "entered",
        {
            "channel": participation.channel,
            "referral_status": participation.referral_status,
            "referrer_id": participation.referrer_id,
            **participation.utm,
        },
    )
    result = JoinResult(participation, created=True)
    if request.confirmed:
        result.rewards = _confirmed(campaign, participation)
    else:
        result.token = _issue_token(participation)
        if compose is not None:
            outbox.queue(
                campaign.workspace_id,
                customer.email_display,
                "confirmation",
                compose(participation, customer, result.token),
                customer.id,
            )
    db.session.commit()
    return result


def _confirmed(campaign: Campaign, participation: Participation) -> list[LedgerEntry]:
    """Record the confirmation event once and pay its rules (inside the caller's transaction)."""
    try:
        with db.session.begin_nested():
            event = _record(
                campaign,
                participation,
                "signup_confirmed",
                {},
                external_id=f"confirm:{participation.id}",
            )
    except IntegrityError:
        return []  # confirmed concurrently: the other request pays
    customer = db.session.get(Customer, participation.customer_id)
    webhooks.participant_confirmed(participation, customer.email_display if customer else None)
    if campaign.kind == "trial":
        trials.start_trial(campaign, participation)  # the trial starts at confirmation
    return pay_for_event(event, participation, campaign)


def _confirm_in_transaction(participation: Participation) -> list[LedgerEntry]:
    db.session.refresh(participation)
    if participation.status == "rejected":
        raise Conflict(N_("This participation was rejected and cannot be confirmed."))
    if participation.confirmed_at is not None:
        return []
    campaign = db.session.get(Campaign, participation.campaign_id)
    assert campaign is not None
    lottery.check_entries_open(campaign)  # a late confirmation would change frozen entries
    participation.confirmed_at = utcnow()
    if participation.status == "pending":
        participation.status = "confirmed"
    return _confirmed(campaign, participation)


@retry_on_contention
def confirm_participation(participation: Participation) -> tuple[Participation, list[LedgerEntry]]:
    """Mark the address confirmed and pay ``signup_confirmed`` rules, exactly once.

    Confirming again (or concurrently) changes nothing and pays nothing more. A flagged
    participation records its confirmation but stays flagged for review (rewards held).

    :raise Conflict: for a rejected participation.
    """
    rewards = _confirm_in_transaction(participation)
    db.session.commit()
    return participation, rewards


@retry_on_contention
def confirm_by_token(token: str) -> tuple[Participation, bool]:
    """Confirm through the e-mailed link. Returns the participation and whether this use
    confirmed it (False: the link had been used already).

    :raise NotFound: unknown token.  :raise LinkExpired: (a Conflict) expired token.
    """
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    row = db.session.scalar(select(ConfirmationToken).where(ConfirmationToken.token_hash == digest))
    if row is None:
        raise NotFound(N_("This confirmation link is not valid."))
    participation = db.session.get(Participation, row.participation_id)
    assert participation is not None
    if row.used_at is not None:
        return participation, False
    if row.expires_at < utcnow():
        raise LinkExpired(
            N_("This confirmation link has expired. Join again to get a new one."),
            participation.campaign_id,
        )
    row.used_at = utcnow()
    _confirm_in_transaction(participation)
    db.session.commit()
    return participation, True


def resend_confirmation(participation: Participation, compose: Composer) -> str:
    """A fresh confirmation link for a pending participation (older links keep working)."""
    customer = db.session.get(Customer, participation.customer_id)
    assert customer is not None
    token = _issue_token(participation)
    outbox.queue(
        customer.workspace_id,
        customer.email_display,
        "confirmation",
        compose(participation, customer, token),
        customer.id,
    )
    db.session.commit()
    return token
