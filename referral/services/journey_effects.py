"""What a journey's effect steps do: send a message, tag or untag the customer, queue the
``journey.step`` webhook, grant a reward. Each returns the outcome the step log records.

A ``grant`` pays the customer itself (level 0, never up the chain) through the reward
machinery (``services.rewards.grant``): a ledger line in the participation of the journey's
campaign (for a journey of the whole workspace, the enrolment's participation, else the
customer's latest one that can be paid), a ``reward_granted`` event on their timeline and
the ``reward.granted`` webhook. The line's unique source key
``journey:<enrolment>:<step>:<visit>`` pays each visit of the step once, whoever runs it.
Skipped, with the reason logged: ``erased``, ``no_participation``, ``campaign_closed``,
``unconfirmed`` (no reward before double opt-in, or a rejected participant) and
``unknown_reward`` (a stored definition naming something a journey does not grant).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import case, select

from referral.domain.journey_parsing import GRANT_REWARDS
from referral.domain.journeys import Effect, Grant, Send, Tag, Untag, Webhook
from referral.extensions import db
from referral.models import Campaign, LedgerEntry, Participation
from referral.services import journey_messages, journey_tags, rewards, webhooks
from referral.services.journey_messages import Outcome

if TYPE_CHECKING:
    from referral.services.journey_runner import Walk

WEBHOOK_KEY_MAX = 80


def apply(walk: Walk, step: Effect, visit: int) -> Outcome:
    """Apply ``step`` (on its ``visit``-th visit) for the enrolment ``walk`` advances."""
    customer = walk.subject.customer
    if isinstance(step, Send):
        return journey_messages.send(
            walk.enrolment, step, walk.subject, walk.definition, visit, walk.now
        )
    if isinstance(step, Tag):
        added = journey_tags.add_tag(customer, step.tag, walk.now)
        return Outcome("tagged", {"tag": step.tag, "new": added})
    if isinstance(step, Untag):
        removed = journey_tags.remove_tag(customer, step.tag)
        return Outcome("untagged", {"tag": step.tag, "had": removed})
    if isinstance(step, Webhook):
        return _webhook(walk, step, visit)
    assert isinstance(step, Grant)
    return _grant(walk, step, visit)


def webhook_key(enrolment_id: int, step_id: str, visit: int) -> str:
    """The delivery key of one visit of a webhook step (hashed when too long to store)."""
    key = f"journey.step:{enrolment_id}:{step_id}:{visit}"
    if len(key) <= WEBHOOK_KEY_MAX:
        return key
    return "journey.step:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _webhook(walk: Walk, step: Webhook, visit: int) -> Outcome:
    enrolment, journey = walk.enrolment, walk.journey
    data = {
        "journey": {"id": str(journey.id), "name": journey.name, "version": enrolment.version},
        "enrolment": {"id": str(enrolment.id), "entered_at": enrolment.entered_at.isoformat()},
        "customer_id": str(enrolment.customer_id),
        "participant_id": str(enrolment.participation_id) if enrolment.participation_id else None,
        "step": {"id": step.id, "label": step.label, "visit": visit},
        "at": walk.now.isoformat(),
    }
    key = webhook_key(enrolment.id, step.id, visit)
    queued = webhooks.enqueue(journey.workspace_id, "journey.step", key, data)
    return Outcome("webhook", {"label": step.label, "queued": queued})


def grant_key(enrolment_id: int, step_id: str, visit: int) -> str:
    """The ledger's source key of one visit of a grant step (at most 128 characters: a step
    id has at most 64)."""
    return f"journey:{enrolment_id}:{step_id}:{visit}"


def _grant(walk: Walk, step: Grant, visit: int) -> Outcome:
    detail: dict[str, object] = {"reward": step.reward, "amount": step.amount}
    if walk.subject.customer.erased_at is not None:
        return Outcome("skipped:erased", detail)
    if step.reward not in GRANT_REWARDS:
        return Outcome("skipped:unknown_reward", detail)
    participation = _beneficiary(walk)
    if participation is None:
        return Outcome("skipped:no_participation", detail)
    campaign = db.session.get_one(Campaign, participation.campaign_id)
    detail["participant_id"] = participation.id
    if campaign.status == "closed":
        return Outcome("skipped:campaign_closed", detail)
    if participation.id not in rewards.opted_in([participation]):
        return Outcome("skipped:unconfirmed", detail)
    key = grant_key(walk.enrolment.id, step.id, visit)
    journey = {"journey_id": walk.journey.id, "step": step.id, "visit": visit}
    entry = rewards.granted(key) or rewards.grant(
        participation, campaign, step.reward, step.amount, key, data={"journey": journey}
    )
    entry = entry or rewards.granted(key)
    assert entry is not None  # paid now, or by the transaction that took the key first
    return Outcome("granted", {**detail, **_paid(entry)})


def _paid(entry: LedgerEntry) -> dict[str, object]:
    paid: dict[str, object] = {"ledger_entry_id": entry.id, "status": entry.status}
    if entry.reason:
        paid["reason"] = entry.reason
    return paid


def _beneficiary(walk: Walk) -> Participation | None:
    """Whom a grant pays: the customer's participation in the journey's campaign; for a
    journey of the whole workspace, the enrolment's participation, else the customer's
    latest participation that can be paid (confirmed, not rejected, its campaign open),
    else their latest."""
    campaign_id = walk.journey.campaign_id
    mine = walk.subject.participation
    if mine is not None and campaign_id in (None, mine.campaign_id):
        return mine
    payable = case(
        (
            (Participation.confirmed_at.is_not(None))
            & (Participation.status != "rejected")
            & (Campaign.status != "closed"),
            1,
        ),
        else_=0,
    )
    query = (
        select(Participation)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .where(Participation.customer_id == walk.subject.customer.id)
        .order_by(payable.desc(), Participation.id.desc())
        .limit(1)
    )
    if campaign_id is not None:
        query = query.where(Participation.campaign_id == campaign_id)
    return db.session.scalar(query)
