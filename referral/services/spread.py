"""The spread graph of a campaign, loaded from the database and cached.

Loading selects plain columns in id order (no ORM objects), so a million participants load
as a million small tuples. Results are cached per campaign and keyed by a cheap fingerprint
(participant count, highest id, latest confirmation and status change): any new or changed
participation gives a new key, so the cache refreshes itself without explicit invalidation.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, select

from referral.domain import spread, spread_graph
from referral.extensions import db
from referral.models import Campaign, Customer, Participation
from referral.models.base import utcnow

_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 32


def fingerprint(campaign_id: int) -> tuple[Any, ...]:
    """Changes whenever a participation of the campaign is added or changes status."""
    row = db.session.execute(
        select(
            func.count(Participation.id),
            func.max(Participation.id),
            func.max(Participation.confirmed_at),
            func.sum(func.length(Participation.status)),
        ).where(Participation.campaign_id == campaign_id)
    ).one()
    return (campaign_id, *(str(v) for v in row))


# A participation's columns in the order of ``spread.Node``'s fields (its label, the last
# field, aside).
NODE_COLUMNS = (
    Participation.id,
    Participation.referrer_id,
    Participation.status,
    Participation.created_at,
    Participation.confirmed_at,
    Participation.channel,
)


def load_nodes(campaign_id: int, with_labels: bool = False) -> list[spread.Node]:
    """Every participation of the campaign as a spread ``Node``, in id order."""
    query = (
        select(*NODE_COLUMNS)
        .where(Participation.campaign_id == campaign_id)
        .order_by(Participation.id)
    )
    if with_labels:
        labelled = query.add_columns(Customer.email_display).join(
            Customer, Customer.id == Participation.customer_id
        )
        return [spread.Node(*row) for row in db.session.execute(labelled)]
    return [spread.Node(*row) for row in db.session.execute(query)]


def campaign_metrics(campaign: Campaign) -> dict[str, Any]:
    """All spread metrics of the campaign (DESIGN "Spread metrics"), cached."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)  # viral K matures by the hour
    key = (fingerprint(campaign.id), now)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    result = spread.metrics(load_nodes(campaign.id), now=now)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def campaign_export(campaign: Campaign, fmt: str) -> tuple[bytes, str, str]:
    """The graph as a file: (content, mimetype, file extension) for graphml, gexf, json, csv.

    :raise ValueError: for an unknown format.
    """
    nodes = load_nodes(campaign.id)
    if fmt == "graphml":
        return spread_graph.to_graphml(nodes), "application/graphml+xml", "graphml"
    if fmt == "gexf":
        return spread_graph.to_gexf(nodes), "application/gexf+xml", "gexf"
    if fmt == "csv":
        return spread_graph.to_csv(nodes).encode("utf-8"), "text/csv; charset=utf-8", "csv"
    if fmt == "json":
        return json.dumps(spread_graph.to_json(nodes)).encode(), "application/json", "json"
    raise ValueError(f"unknown format {fmt!r}")
