"""What a sign-up looks like at the moment it joins, for the rules of ``domain.fraud``.

The counts are taken from the campaign's own participations; what they mean (and when a
sign-up is held for review) is decided in the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.orm import aliased

from referral.domain import codes, fraud
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.services.identity import is_disposable
from referral.services.rows import as_loaded, first_row, table_attributes


# Built once (the sign-up path runs them with its values as parameters). The same-device
# count says ``agent_hash = :agent``, or ``IS NULL`` for a browser that sent no user agent,
# rather than ``IS NOT DISTINCT FROM``, which no index can serve: with the equality it reads
# ``ix_participations_device`` (ip_hash, campaign_id, agent_hash, created_at) alone, so an
# address many people share (venue wifi) costs no count of all its sign-ups.
def _same_device(agent_known: bool) -> Any:
    seen = aliased(Participation)  # its own alias: the lookup of a code selects from the table
    agent = seen.agent_hash
    return (
        select(func.count())
        .where(
            seen.ip_hash == bindparam("ip"),
            seen.campaign_id == bindparam("campaign_id"),
            agent == bindparam("agent") if agent_known else agent.is_(None),
            seen.created_at > bindparam("day_ago"),
        )
        .scalar_subquery()
    )


# Keyed by whether the user agent is known.
_DEVICE_QUERIES: dict[bool, Any] = {known: select(_same_device(known)) for known in (True, False)}


# A referral code's participation with both counts, in one query: the same device's, and
# the friends its owner brought in during the last hour (counted for the owner, and used
# when the attribution accepts the owner as the referrer). Keyed by (address known, user
# agent known).
_FRIEND = aliased(Participation)
_OWNER_BURST = (
    select(func.count())
    .where(_FRIEND.referrer_id == Participation.id, _FRIEND.created_at > bindparam("hour_ago"))
    .scalar_subquery()
)
_OWNER_QUERIES: dict[tuple[bool, bool], Any] = {
    (ip_known, agent_known): select(
        *Participation.__table__.c,
        _same_device(agent_known) if ip_known else literal(0),
        _OWNER_BURST,
    ).where(Participation.referral_code == bindparam("code"))
    for ip_known in (True, False)
    for agent_known in (True, False)
}


@dataclass(frozen=True)
class Found:
    """What a sign-up's lookup found: the owner of the referral code it came with (None: no
    code, or no such code), the same device's sign-ups of the last day, and the friends the
    owner brought in during the last hour."""

    owner: Participation | None
    same_device: int
    owner_burst: int


def lookup(campaign: Campaign, code: str | None, ip: str | None, agent: str | None) -> Found:
    """The owner of ``code`` and the counts for the rules of ``domain.fraud``, in one query
    when the code is known (``ip`` and ``agent`` are keyed hashes)."""
    now = utcnow()
    values = {
        "campaign_id": campaign.id,
        "ip": ip,
        "agent": agent,
        "day_ago": now - timedelta(days=1),
        "hour_ago": now - timedelta(hours=1),
        "code": code,
    }
    if code and len(code) <= codes.MAX_LENGTH:
        row = first_row(_OWNER_QUERIES[(bool(ip), agent is not None)], values)
        if row is not None:
            *columns, same_device, burst = row
            attributes = table_attributes(Participation)
            owner = as_loaded(Participation, dict(zip(attributes, columns, strict=True)))
            return Found(owner, int(same_device), int(burst))
    return Found(None, _same_device_count(campaign, ip, agent, now), 0)


def _same_device_count(campaign: Campaign, ip: str | None, agent: str | None, now: datetime) -> int:
    """Sign-ups of the last day in ``campaign`` from the same hashed address and browser (0
    when the address is unknown)."""
    if not ip:
        return 0
    values = {
        "campaign_id": campaign.id,
        "ip": ip,
        "agent": agent,
        "day_ago": now - timedelta(days=1),
    }
    found = first_row(_DEVICE_QUERIES[agent is not None], values)
    assert found is not None  # a select of a count has one row
    return int(found[0])


def flag_reasons(email: str, found: Found, referrer: Participation | None) -> list[str]:
    """Why a new sign-up should wait for review (empty: nothing suspicious), from what
    :func:`lookup` found; ``referrer`` is the participation the attribution chose, or None
    (the owner's friends count only when the owner is the referrer)."""
    burst = found.owner_burst if referrer is not None and referrer is found.owner else 0
    signals = fraud.Signals(is_disposable(email), found.same_device, burst)
    return fraud.flag_reasons(signals)
