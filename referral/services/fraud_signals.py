"""What a sign-up looks like at the moment it joins, for the rules of ``domain.fraud``.

The counts are taken from the campaign's own participations; what they mean (and when a
sign-up is held for review) is decided in the domain.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal, select

from referral.domain import fraud
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services.identity import is_disposable
from referral.services.rows import first_row


# Built once (the sign-up path runs them with its values as parameters). The same-device
# count says ``agent_hash = :agent``, or ``IS NULL`` for a browser that sent no user agent,
# rather than ``IS NOT DISTINCT FROM``, which no index can serve: with the equality it reads
# ``ix_participations_device`` (ip_hash, campaign_id, agent_hash, created_at) alone, so an
# address many people share (venue wifi) costs no count of all its sign-ups.
def _same_device(agent_known: bool) -> Any:
    agent = Participation.agent_hash
    return (
        select(func.count())
        .where(
            Participation.ip_hash == bindparam("ip"),
            Participation.campaign_id == bindparam("campaign_id"),
            agent == bindparam("agent") if agent_known else agent.is_(None),
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
# Keyed by (address known, referrer known, user agent known); both counts in one query.
_QUERIES: dict[tuple[bool, bool, bool], Any] = {
    (True, True, True): select(_same_device(True), _BURST),
    (True, True, False): select(_same_device(False), _BURST),
    (True, False, True): select(_same_device(True), literal(0)),
    (True, False, False): select(_same_device(False), literal(0)),
    (False, True, True): select(literal(0), _BURST),
    (False, True, False): select(literal(0), _BURST),
}


def _counts(
    campaign: Campaign, ip: str | None, agent: str | None, referrer_id: int | None, now: datetime
) -> tuple[int, int]:
    """Sign-ups of the last day from the same hashed address and browser, and friends the
    referrer brought in during the last hour (each 0 when there is nothing to compare);
    both in one query."""
    if not ip and not referrer_id:
        return 0, 0
    query = _QUERIES[(bool(ip), bool(referrer_id), agent is not None)]
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
