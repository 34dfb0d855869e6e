"""Who referred whom: the rules of attribution.

- First touch wins: the first referral link a visitor opens for a campaign is the one that
  counts (later links do not overwrite it), within the campaign's attribution window.
- The referrer is decided once, when the participation is created, and never rewritten.
- A referral by the same person (same customer, or the same browser) is not a referral:
  the participation is created without a referrer and says ``self_referral``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

REFERRED = "referred"
NONE = "none"
UNKNOWN_CODE = "unknown_code"
SELF_REFERRAL = "self_referral"
EXPIRED = "expired"
REFERRER_INELIGIBLE = "referrer_ineligible"

REFERRAL_STATUSES = (REFERRED, NONE, UNKNOWN_CODE, SELF_REFERRAL, EXPIRED, REFERRER_INELIGIBLE)


@dataclass(frozen=True)
class Referrer:
    """What attribution needs to know of the participation that owns a code."""

    id: int
    campaign_id: int
    customer_id: int
    status: str
    visitor_hash: str | None = None


@dataclass(frozen=True)
class Attribution:
    referrer_id: int | None
    status: str


def attribute(
    *,
    code: str | None,
    referrer: Referrer | None,
    campaign_id: int,
    customer_id: int,
    visitor_hash: str | None,
    touched_at: datetime | None,
    now: datetime,
    window_days: int,
) -> Attribution:
    """Decide the referrer of a new participation.

    ``referrer`` is the owner of ``code`` (None when no participation has it); ``touched_at``
    is when the visitor first opened the link (None: the code came with the form itself, i.e.
    now). Returns no referrer, with the reason, for an unknown code, a code of another
    campaign, a self-referral, a rejected referrer or a touch older than the window.
    """
    if not code:
        return Attribution(None, NONE)
    if referrer is None or referrer.campaign_id != campaign_id:
        return Attribution(None, UNKNOWN_CODE)
    if referrer.customer_id == customer_id or (
        visitor_hash is not None and referrer.visitor_hash == visitor_hash
    ):
        return Attribution(None, SELF_REFERRAL)
    if referrer.status == "rejected":
        return Attribution(None, REFERRER_INELIGIBLE)
    if touched_at is not None and now - touched_at > timedelta(days=window_days):
        return Attribution(None, EXPIRED)
    return Attribution(referrer.id, REFERRED)


def ancestor_ids(path: str) -> list[int]:
    """Ancestor ids of a participation, root first, from its ``path`` ("/3/17/")."""
    return [int(part) for part in path.strip("/").split("/") if part]


def chain(participation_id: int, path: str) -> list[int]:
    """The payout chain: the participation itself (level 0), its referrer (1), and so on."""
    return [participation_id, *reversed(ancestor_ids(path))]
