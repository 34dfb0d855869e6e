"""What a sign-up looks like at the moment it joins, for the rules of ``domain.fraud``.

The counts are taken from the campaign's own participations; what they mean (and when a
sign-up is held for review) is decided in the domain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, literal, select

from referral.domain import fraud
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services.identity import is_disposable
from referral.services.rows import first_row

# Built once (the sign-up path runs them with its values as parameters).
_SAME_DEVICE = (
    select(func.count())
    .where(
        Participation.campaign_id == bindparam("campaign_id"),
        Participation.ip_hash == bindparam("ip"),
        Participation.agent_hash.is_not_distinct_from(bindparam("agent")),
        Participation.created_at > bindparam("day_ago"),
    )
    .scalar_subquery()
)
_BURST = (
    select(func.count())
    .where(
        Participation.referrer_id == bindparam("referrer_id"),
        Participation.created_at > bindparam("hour_ago"),
    )
    .scalar_subquery()
)
_BOTH = select(_SAME_DEVICE, _BURST)
_DEVICE_ONLY = select(_SAME_DEVICE, literal(0))
_BURST_ONLY = select(literal(0), _BURST)


def _counts(
    campaign: Campaign, ip: str | None, agent: str | None, referrer_id: int | None, now: datetime
) -> tuple[int, int]:
    """Sign-ups of the last day from the same hashed address and browser, and friends the
    referrer brought in during the last hour (each 0 when there is nothing to compare);
    both in one query."""
    if ip and referrer_id:
        query = _BOTH
    elif ip:
        query = _DEVICE_ONLY
    elif referrer_id:
        query = _BURST_ONLY
    else:
        return 0, 0
    values = {
        "campaign_id": campaign.id,
        "ip": ip,
        "agent": agent,
        "day_ago": now - timedelta(days=1),
        "referrer_id": referrer_id,
        "hour_ago": now - timedelta(hours=1),
    }
    found = first_row(query, values)
    assert found is not None  # a select of two counts has one row
    same_device, burst = found
    return int(same_device), int(burst)


def flag_reasons(
    campaign: Campaign, email: str, ip: str | None, agent: str | None, referrer_id: int | None
) -> list[str]:
    """Why a new sign-up of ``campaign`` should wait for review (empty: nothing suspicious).

    ``ip`` and ``agent`` are keyed hashes; ``referrer_id`` is the participation the
    attribution chose, or None.
    """
    same_device, burst = _counts(campaign, ip, agent, referrer_id, utcnow())
    signals = fraud.Signals(is_disposable(email), same_device, burst)
    return fraud.flag_reasons(signals)
