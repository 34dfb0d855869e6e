"""A journey's ``send`` step: consent and cadence first, then the message written in the
customer's locale and queued in the outbox exactly once.

The outbox row carries the unique key ``journey:<enrolment>:<step>:<visit>``: the runner
writes it in the same transaction as the step's log line and the enrolment's next
position, so a retry, a second runner or a runner that lost its claim cannot queue it
twice. Its ``kind`` is ``journey:<topic>`` (``journey:marketing``, ``journey:birthday``),
which tells the mail sender the topic a ``List-Unsubscribe`` header is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain.consent_topics import check_send
from referral.domain.journeys import Definition, Send
from referral.domain.message_templates import (
    CampaignInfo,
    Friend,
    MessageContext,
    TemplateFailed,
    choose_locale,
    render_message,
)
from referral.extensions import db
from referral.models import Campaign, Customer, OutboxMessage, Participation, RewardRule
from referral.models.journey import JourneyEnrolment
from referral.services import outbox, privacy_requests, subscriptions, workspace_settings
from referral.services.advocates import public_name, rank_of, referral_url
from referral.services.journey_facts import Subject, recipient, shown_answers
from referral.services.journey_templates import message_versions
from referral.services.privacy_footer import with_privacy_link
from referral.services.rewards import confirmed_referrals

# Friends loaded for a message: the latest are shown, and this many are counted at most.
FRIENDS_LOADED = 1_000


@dataclass(frozen=True)
class Outcome:
    """What an effect did, for the step log; ``retry_at`` when the step must run again
    later (a message held back by quiet hours)."""

    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)
    retry_at: datetime | None = None


def outbox_key(enrolment_id: int, step_id: str, visit: int) -> str:
    return f"journey:{enrolment_id}:{step_id}:{visit}"


def send(
    enrolment: JourneyEnrolment,
    step: Send,
    subject: Subject,
    definition: Definition,
    visit: int,
    now: datetime,
) -> Outcome:
    """Queue the message of ``step`` when consent and cadence allow it now; otherwise say
    why not (``skipped:<reason>``) or until when it waits (``deferred:quiet_hours``).
    The workspace's cap is its owner's setting (``services.workspace_settings``)."""
    workspace_cap = workspace_settings.mail_cap(subject.customer.workspace_id)
    verdict = check_send(
        step.topic,
        recipient(subject, enrolment.journey_id, definition, now, workspace_cap),
        now,
        workspace_cap=workspace_cap,
        journey_cap=definition.cap,
        quiet=definition.quiet_hours,
    )
    if verdict.outcome == "defer":
        assert verdict.retry_at is not None
        until = {"until": verdict.retry_at.isoformat()}
        return Outcome(verdict.log_outcome, until, verdict.retry_at)
    if not verdict.sends:
        return Outcome(verdict.log_outcome, {"scope": verdict.scope} if verdict.scope else {})
    return _write(enrolment, step, subject, outbox_key(enrolment.id, step.id, visit))


def _write(enrolment: JourneyEnrolment, step: Send, subject: Subject, key: str) -> Outcome:
    customer, campaign = subject.customer, subject.campaign
    versions = message_versions(customer.workspace_id, step.template)
    customer_locale = customer.locale or (
        subject.participation.locale if subject.participation else None
    )
    locale = choose_locale(versions, customer_locale, campaign.locales if campaign else [])
    if locale is None:
        return Outcome("skipped:no_template", {"template": step.template})
    try:
        context = message_context(subject, locale, step.topic)
        mail = render_message(versions[locale], context.as_mapping())
    except TemplateFailed as failed:
        error = str(failed.params.get("error", ""))[:300]
        return Outcome("skipped:template_failed", {"template": step.template, "error": error})
    written = outbox.Mail(mail.subject, mail.text, mail.html or "")
    message_id = _queue_once(
        customer,
        f"journey:{step.topic}",
        with_privacy_link(written, customer.workspace_id, customer.id, locale),
        key,
    )
    detail = {"outbox_id": message_id, "template": step.template, "locale": locale}
    return Outcome("sent", {**detail, "topic": step.topic})


def _queue_once(customer: Customer, kind: str, mail: outbox.Mail, key: str) -> int:
    """The outbox row with ``key``: queued now, or the one queued before."""
    found = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            message = outbox.queue(
                customer.workspace_id, customer.email_display, kind, mail, customer.id, key=key
            )
            db.session.flush()
            return message.id
    except IntegrityError:
        found = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
        assert found is not None
        return found


def message_context(subject: Subject, locale: str, topic: str | None = None) -> MessageContext:
    """Everything a message may quote about its customer, in ``locale``; with ``topic``,
    the one-click unsubscribe link from it."""
    customer, participation, campaign = subject.customer, subject.participation, subject.campaign
    confirmed = confirmed_referrals(participation.id) if participation else 0
    link = referral_url(participation) if participation else ""
    base = current_app.config["PUBLIC_BASE_URL"]
    return MessageContext(
        customer_name=customer.name,
        locale=locale,
        campaign=_info(campaign, base) if campaign else None,
        campaigns=[_info(c, base) for c in _campaigns_of(customer.id)],
        points=subject.facts.points or 0,
        rank=rank_of(participation, confirmed) if participation else None,
        next_milestone=_next_milestone(campaign.id, confirmed) if campaign else None,
        confirmed=confirmed,
        referral_link=link,
        qr_url=f"{base}/q/{participation.referral_code}.png" if participation else "",
        friends=_friends(participation) if participation else (),
        answers=shown_answers(customer.id),
        unsubscribe_url=subscriptions.unsubscribe_url(customer.id, topic) if topic else "",
        preferences_url=subscriptions.preferences_url(customer.id),
        privacy_url=privacy_requests.page_url(customer.workspace_id, customer.id),
    )


def _info(campaign: Campaign, base: str) -> CampaignInfo:
    return CampaignInfo(campaign.name, campaign.slug, f"{base}/c/{campaign.slug}")


def _campaigns_of(customer_id: int) -> list[Campaign]:
    return list(
        db.session.scalars(
            select(Campaign)
            .join(Participation, Participation.campaign_id == Campaign.id)
            .where(Participation.customer_id == customer_id)
            .order_by(Participation.id)
        )
    )


def _next_milestone(campaign_id: int, confirmed: int) -> int | None:
    """The smallest milestone of the campaign's active rules still ahead."""
    return db.session.scalar(
        select(RewardRule.milestone)
        .where(
            RewardRule.campaign_id == campaign_id,
            RewardRule.active.is_(True),
            RewardRule.milestone > confirmed,
        )
        .order_by(RewardRule.milestone)
        .limit(1)
    )


def _friends(participation: Participation) -> list[Friend]:
    """The confirmed friends who joined through the customer, newest first, by the name
    public lists show (a masked address when they gave none)."""
    rows = db.session.execute(
        select(Customer.name, Customer.email, Participation.created_at)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(Participation.referrer_id == participation.id, Participation.status == "confirmed")
        .order_by(Participation.id.desc())
        .limit(FRIENDS_LOADED)
    ).all()
    return [Friend(public_name(name, email), at.date()) for name, email, at in rows]
