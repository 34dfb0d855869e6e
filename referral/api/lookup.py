"""Loading the caller's rows by the ids in a path.

Every lookup is scoped to the API key's workspace: an id of another workspace, an unknown
id and a malformed one are the same 404 (DESIGN invariant 7).
"""

from __future__ import annotations

from typing import TypeVar

from flask import g

from referral.domain.errors import N_, NotFound
from referral.models import Campaign, Customer, Draw, Participation
from referral.models.base import WorkspaceScoped
from referral.services import campaigns
from referral.services.ids import parse_id
from referral.services.participant_stats import participant_in
from referral.services.scoping import get_owned

T = TypeVar("T", bound=WorkspaceScoped)


def _owned(model: type[T], text: str, unknown: str) -> T:
    """:raise NotFound: with ``unknown`` for a malformed id, as ``get_owned`` does for an
    unknown one or one of another workspace."""
    ident = parse_id(text)
    if ident is None:
        raise NotFound(unknown)
    return get_owned(model, ident, g.workspace_id)


def owned_campaign(campaign_id: str, *, lock: bool = False) -> Campaign:
    """The campaign of the caller's workspace; ``lock`` holds its row until the commit, for
    a service that changes its state without taking the lock itself.

    :raise NotFound: for a malformed id, an unknown one, or one of another workspace alike.
    """
    campaign = _owned(Campaign, campaign_id, N_("No such campaign."))
    return campaigns.lock(campaign) if lock else campaign


def owned_customer(customer_id: str) -> Customer:
    """:raise NotFound: for a malformed, unknown or other workspace's customer id."""
    return _owned(Customer, customer_id, N_("No such customer."))


def owned_draw(draw_id: str) -> Draw:
    """:raise NotFound: malformed, unknown, or another workspace's draw alike."""
    return _owned(Draw, draw_id, N_("No such draw."))


def owned_participant(participant_id: str) -> Participation:
    """:raise NotFound: for a malformed, unknown or other workspace's participant id."""
    found = participant_in(parse_id(participant_id), g.workspace_id)
    if found is None:
        raise NotFound(N_("No such participant."))
    return found
