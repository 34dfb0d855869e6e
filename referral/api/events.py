"""Events reported by integrators (purchases, conversions, …) and the rewards they pay."""

from __future__ import annotations

from typing import Any

from referral.api.auth import caller
from referral.api.engine_schemas import EventIn, Reported
from referral.api.lookup import owned_campaign
from referral.api.operations import creates
from referral.services.events import report_event
from referral.services.ids import parse_id
from referral.services.participant_stats import participant_of

_REPEATED = {
    "description": "This `external_id` was reported before: the first event and the rewards "
    "it paid; nothing is recorded or paid again.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reported"}}},
}


@creates(
    "POST /campaigns/<campaign_id>/events",
    "reportEvent",
    "Report an event",
    Reported,
    "The event and the rewards it paid.",
    body=EventIn,
    description="Something a participant did (`purchase`, `trial_converted`, …). The "
    "campaign's reward rules for it are paid up the referral chain, within the depth cap, "
    "each at most once; a referrer who has not confirmed their e-mail address receives "
    "nothing. The same `external_id` (per campaign and kind) is recorded and paid once, also "
    "when sent concurrently; a repeat answers 200 with the first event. Rewards flow only "
    "after double opt-in: for a participant who has not confirmed their address the answer "
    "is 409 with `type` ending in `/problems/not-confirmed` and nothing is recorded; report "
    "the event again once they have confirmed. A rejected participant answers 409 too. A "
    "`refund` that names its purchase (`purchase_external_id`) makes void every reward that "
    "purchase paid, with `reason` `refund` and one `reward.voided` webhook each, as a payment "
    "provider's refund does; they are listed in `voided`. A repeat (the same `external_id`) "
    "or a second refund of the purchase voids nothing more; a purchase this participant does "
    "not have in the campaign answers 422 naming `purchase_external_id`, and nothing is "
    "recorded.",
    responses={200: _REPEATED},
    conflict=True,
)
def create_event(campaign_id: str, data: dict[str, Any]) -> Any:
    campaign = owned_campaign(campaign_id)
    reported = report_event(
        campaign,
        participant_of(campaign, parse_id(data["participant_id"])),
        data["kind"],
        amount=data.get("amount"),
        currency=data.get("currency"),
        external_id=data.get("external_id"),
        occurred_at=data.get("occurred_at"),
        purchase_external_id=data.get("purchase_external_id"),
        actor=caller()["actor"],
    )
    return reported, 201 if reported.created else 200
