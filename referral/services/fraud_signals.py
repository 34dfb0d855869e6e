"""What a sign-up looks like at the moment it joins, for the rules of ``domain.fraud``.

The counts are taken from the campaign's own participations; what they mean (and when a
sign-up is held for review) is decided in the domain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from referral.domain import fraud
from referral.extensions import db
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services.identity import is_disposable


def _same_device(campaign: Campaign, ip: str | None, agent: str | None, now: datetime) -> int:
    """Sign-ups of the last day from the same hashed address and browser."""
    if not ip:
        return 0
    query = select(func.count()).where(
        Participation.campaign_id == campaign.id,
        Participation.ip_hash == ip,
        Participation.agent_hash == agent,
        Participation.created_at > now - timedelta(days=1),
    )
    return db.session.scalar(query) or 0


def _referrer_burst(referrer_id: int | None, now: datetime) -> int:
    """Friends the referrer brought in during the last hour."""
    if not referrer_id:
        return 0
    query = select(func.count()).where(
        Participation.referrer_id == referrer_id,
        Participation.created_at > now - timedelta(hours=1),
    )
    return db.session.scalar(query) or 0


def flag_reasons(
    campaign: Campaign, email: str, ip: str | None, agent: str | None, referrer_id: int | None
) -> list[str]:
    """Why a new sign-up of ``campaign`` should wait for review (empty: nothing suspicious).

    ``ip`` and ``agent`` are keyed hashes; ``referrer_id`` is the participation the
    attribution chose, or None.
    """
    now = utcnow()
    signals = fraud.Signals(
        is_disposable(email),
        _same_device(campaign, ip, agent, now),
        _referrer_burst(referrer_id, now),
    )
    return fraud.flag_reasons(signals)
