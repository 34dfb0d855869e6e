"""The data of the admin's interactive spread view.

It never carries a full e-mail address: labels are masked (``j***@g***.com``) and the
customer id links to the person's page. Above ``max_nodes`` the deepest branches become
aggregate nodes that open on request.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, or_, select

from referral.domain import spread as graph
from referral.domain.emails import mask_email
from referral.domain.errors import NotFound
from referral.domain.spread_graph import collapse
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    Participation,
)
from referral.services.participants import clean_search
from referral.services.spread import NODE_COLUMNS

VIEW_MAX_NODES = 5_000  # default of the REFERRAL_SPREAD_VIEW_MAX_NODES setting


def spread_view(
    campaign: Campaign, max_nodes: int, root: int | None = None, after: int | None = None
) -> dict[str, Any]:
    """The campaign's graph for the browser, cut to ``max_nodes`` by ``spread_graph.collapse``.

    Without ``root`` and ``after``: the whole graph. With them, one group (aggregate) is
    opened: ``root`` (a participation id) and those of its referees with an id above
    ``after``, with everyone below them; without ``root``, the roots with an id above
    ``after`` and their trees. ``collapse`` keeps the shallowest nodes in id order, so the
    referees above the highest one drawn are exactly those in the group, however often it
    was opened before. Depths stay those of the whole graph. Each node carries
    ``customer_id``, ``direct`` (direct referrals in the graph) and a masked address as
    ``label``, never the address.

    :raise NotFound: when ``root`` is not a participant of the graph of this campaign.
    """
    path = _root_path(campaign.id, root) if root is not None else None
    rows = _view_rows(campaign.id, root, path)
    nodes = [
        graph.Node(id_, referrer, status, created, confirmed, channel, mask_email(address))
        for id_, referrer, status, created, confirmed, channel, _customer, address in rows
    ]
    customers = {row[0]: row[6] for row in rows}
    direct = Counter(n.referrer_id for n in nodes if n.status != graph.REJECTED)
    offset, parent = _placement(campaign.id, path) if path is not None else (0, None)
    if root is not None or after is not None:
        nodes = _group(nodes, root, after or 0)
    view = collapse(nodes, max_nodes)
    for node in view["nodes"]:
        if node.get("aggregate"):
            continue
        node["customer_id"] = customers[node["id"]]
        node["direct"] = direct[node["id"]]
        node["depth"] += offset
        if node["id"] == root:
            node["referrer_id"] = parent
    shown = sum(1 for n in view["nodes"] if not n.get("aggregate"))
    size = shown + sum(n["count"] for n in view["nodes"] if n.get("aggregate"))
    return {"root": root, "size": size, "shown": shown, "max_nodes": max_nodes, **view}


def _root_path(campaign_id: int, root: int) -> str:
    """:raise NotFound: when ``root`` is no participant of the campaign's graph."""
    path = db.session.scalar(
        select(Participation.path).where(
            Participation.id == root,
            Participation.campaign_id == campaign_id,
            Participation.status != graph.REJECTED,
        )
    )
    if path is None:
        raise NotFound("No such participant in this campaign.")
    return path


def _view_rows(campaign_id: int, root: int | None, path: str | None) -> list[Any]:
    """(id, referrer, status, created, confirmed, channel, customer id, address) in id
    order: every participant, or ``root`` and everyone whose ``path`` runs through it."""
    query = (
        select(*NODE_COLUMNS, Participation.customer_id, Customer.email_display)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(Participation.campaign_id == campaign_id)
        .order_by(Participation.id)
    )
    if root is not None:
        below = Participation.path.startswith(f"{path}{root}/", autoescape=True)
        query = query.where(or_(Participation.id == root, below))
    return list(db.session.execute(query))


def _group(nodes: list[graph.Node], root: int | None, after: int) -> list[graph.Node]:
    """``root`` and its referees above ``after`` (without ``root``: the roots above
    ``after``), with their descendants in the graph. A rejected participant is not in the
    graph: their referees are roots of their own trees."""
    rejected = {n.id for n in nodes if n.status == graph.REJECTED}
    kept: set[int] = set() if root is None else {root}
    for node in nodes:  # id order: a referrer comes before its referees
        if node.status == graph.REJECTED or node.id == root:
            continue
        if root is None:
            top = node.referrer_id is None or node.referrer_id in rejected
        else:
            top = node.referrer_id == root
        if (node.id > after) if top else (node.referrer_id in kept):
            kept.add(node.id)
    return [n for n in nodes if n.id in kept]


def _graph_ancestors(campaign_id: int, path: str) -> list[int]:
    """The ids on ``path`` below its last rejected participant, root first: the ancestors
    in the graph (a rejected referrer makes its referee a root)."""
    ancestors = [int(part) for part in path.strip("/").split("/") if part]
    rejected = set(
        db.session.scalars(
            select(Participation.id).where(
                Participation.campaign_id == campaign_id,
                Participation.id.in_(ancestors),
                Participation.status == graph.REJECTED,
            )
        )
    )
    cut = max((i for i, ancestor in enumerate(ancestors) if ancestor in rejected), default=-1)
    return ancestors[cut + 1 :]


def _placement(campaign_id: int, path: str) -> tuple[int, int | None]:
    """(Depth, referrer) in the graph of the participant at ``path``."""
    ancestors = _graph_ancestors(campaign_id, path)
    return len(ancestors), ancestors[-1] if ancestors else None


def find_node(campaign: Campaign, term: str) -> dict[str, Any] | None:
    """The participant of the graph with this exact referral code, else the first (by id)
    whose address contains ``term`` in any case: ``{"id", "ancestors"}`` (its ancestors in
    the graph from the root down, so a collapsed view knows which groups to open). None when nothing
    matches or ``term`` is empty."""
    term = clean_search(term)
    if not term:
        return None
    lower = term.lower()
    found = db.session.execute(
        select(Participation.id, Participation.path)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(
            Participation.campaign_id == campaign.id,
            Participation.status != graph.REJECTED,
            or_(
                Participation.referral_code == term,
                func.lower(Customer.email_display).contains(lower, autoescape=True),
                Customer.email.contains(lower, autoescape=True),
            ),
        )
        .order_by((Participation.referral_code == term).desc(), Participation.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    return {"id": found.id, "ancestors": _graph_ancestors(campaign.id, found.path)}
