"""What a journey's effect steps do: send a message, tag or untag the customer, queue the
``journey.step`` webhook, grant a reward. Each returns the outcome the step log records.

A ``grant`` is logged ``skipped:not_supported`` for now: rewards are paid only by the
reward rules of a campaign (``services.rewards``, with the depth cap), which pay for events,
and a journey has no event of its own to pay for yet.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from referral.domain.journeys import Effect, Grant, Send, Tag, Untag, Webhook
from referral.services import journey_messages, journey_tags, webhooks
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
    return Outcome("skipped:not_supported", {"reward": step.reward})


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
