"""The word-of-mouth spread graph of a campaign: its metrics, exports and browser view.

The graph holds every participation except ``rejected`` ones; an edge runs referrer → referee.
A node whose referrer is rejected or absent from the input is a root (depth 0). Ids satisfy
``referrer_id < id``, so the graph is a forest and nodes in id order list every parent before
its children: metrics are computed on flat arrays in a few O(n) passes (10^6 nodes in a few
seconds, see bench/spread.py) and networkx is used only to build the graph for exports.

A node's ``subtree`` counts the node itself and everyone below it.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from heapq import nlargest
from itertools import chain, compress, islice, repeat
from math import fsum, inf
from operator import attrgetter, eq, floordiv, ge, is_, mul, sub, truediv
from typing import Any

import networkx as nx

CONFIRMED = "confirmed"
REJECTED = "rejected"
_DAY_S = 86_400
_EPOCH_DAY = date(1970, 1, 1)
# Spreadsheets run a cell starting with these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 forbids: a label holding one would make the GraphML/GEXF unreadable.
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Node:
    """One participation as the spread graph sees it; ``created_at`` is timezone-aware."""

    id: int
    referrer_id: int | None
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    channel: str
    label: str = ""


@dataclass(slots=True)
class _Forest:
    """Nodes in id order and, per index: parent index (-1 for a root), depth, root index,
    subtree size and direct referrals."""

    nodes: list[Node]
    parent: array[int]
    depth: array[int]
    root: array[int]
    subtree: array[int]
    direct: array[int]


# At 10^6 nodes the cost is cache misses, not arithmetic. Flat int64 arrays keep each
# random access to one miss (a list of ints adds one per int object), loops are few and
# simple, and the rest runs inside C iterators (map, zip, Counter, compress, sorted).
def _forest(nodes: Iterable[Node]) -> _Forest:
    kept = sorted((n for n in nodes if n.status != REJECTED), key=attrgetter("id"))
    size = len(kept)
    parent = _parent_indexes(kept)
    if any(map(ge, parent, range(size))):
        raise ValueError("every referrer_id must be smaller than the node's id")
    depth, root = array("q", bytes(8 * size)), array("q", range(size))
    for i, p in enumerate(parent):
        if p >= 0:
            depth[i] = depth[p] + 1
            root[i] = root[p]
    # One spare slot at the end soaks up what roots would add to parent -1.
    subtree, direct = array("q", [1]) * (size + 1), array("q", [0]) * (size + 1)
    for i, p in zip(range(size - 1, -1, -1), reversed(parent), strict=True):
        subtree[p] += subtree[i]
        direct[p] += 1
    subtree.pop()
    direct.pop()
    return _Forest(kept, parent, depth, root, subtree, direct)


def _parent_indexes(kept: list[Node]) -> array[int]:
    """Index of each node's referrer in ``kept`` (sorted by id); -1 for a root, that is a
    referrer that is None, rejected or absent."""
    ids = array("q", map(attrgetter("id"), kept))
    if any(map(eq, ids, islice(ids, 1, None))):
        raise ValueError("node ids must be unique")
    referrers = map(attrgetter("referrer_id"), kept)
    if not ids or ids[-1] - ids[0] > 8 * len(ids):  # sparse ids: a dict is the smaller index
        index = dict(zip(ids, range(len(ids)), strict=True))
        return array("q", map(index.get, referrers, repeat(-1)))
    base, end = ids[0], ids[-1]
    position = array("q", [-1]) * (end - base + 1)
    for i, node_id in enumerate(ids):
        position[node_id - base] = i
    return array(
        "q", [position[r - base] if r is not None and base <= r <= end else -1 for r in referrers]
    )


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 6) if denominator else 0.0


# A participant counts towards the viral K once they have had this long to invite friends.
MATURITY = timedelta(days=7)


def _viral_k(forest: _Forest, confirmed: list[bool], now: datetime) -> tuple[float, int]:
    """Confirmed referrals per mature participant, and how many mature participants there
    are (confirmed at least :data:`MATURITY` before ``now``)."""
    cutoff = now - MATURITY
    mature = [
        ok and (node.confirmed_at or node.created_at) <= cutoff
        for ok, node in zip(confirmed, forest.nodes, strict=True)
    ]
    referrals = sum(
        1
        for i, parent in enumerate(forest.parent)
        if parent >= 0 and confirmed[i] and mature[parent]
    )
    eligible = sum(mature)
    return _ratio(referrals, eligible), eligible


def metrics(nodes: Iterable[Node], top: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """Every spread metric of a campaign (docs/DESIGN.md, Spread metrics); floats to 6 decimals.

    - ``viral_k`` = confirmed referrals made by mature participants ÷ mature participants,
      where a participant is mature once confirmed at least seven days before ``now``
      (``k_mature_participants`` of them): the K growth teams read, the mean number of
      friends each participant brought in, not pulled down by newcomers who had no time
      to share yet. 0 when nobody is mature.

    - ``size`` nodes; ``confirmed`` nodes with status confirmed; ``roots`` nodes without a
      referrer in the graph; ``max_depth`` the deepest depth (0 when empty);
      ``breadth_by_depth[d]`` the nodes at depth d (``[]`` when empty).
    - ``k_factor`` = confirmed nodes that have a referrer ÷ confirmed nodes (0 when none).
    - ``k_by_generation[g]`` = confirmed nodes at depth g+1 ÷ confirmed nodes at depth g,
      0.0 when depth g has no confirmed node; ``max_depth`` entries.
    - ``structural_virality`` and ``structural_virality_largest``: see
      :func:`structural_virality`; the largest tree is the one with the most nodes, the
      smallest root id winning a tie.
    - ``referred_share`` = nodes with a referrer ÷ size (0 when empty).
    - ``median_time_to_first_referral_s``: over the nodes that referred anyone, the seconds
      from the node's ``created_at`` to its earliest child's; None when nobody referred.
    - ``top_advocates``: see :func:`_top_advocates`; ``channels``: joins per channel.
    - ``growth_by_day``: see :func:`_growth_by_day`; ``growth_by_generation[d]`` =
      ``{"depth", "joined", "confirmed"}`` for depth d.
    """
    forest = _forest(nodes)
    size = len(forest.nodes)
    confirmed = list(map(CONFIRMED.__eq__, map(attrgetter("status"), forest.nodes)))
    breadth = _per_depth(forest.depth)
    confirmed_by_depth = _per_depth(compress(forest.depth, confirmed), len(breadth))
    total_confirmed, roots = sum(confirmed_by_depth), sum(breadth[:1])
    created = array("d", map(datetime.timestamp, map(attrgetter("created_at"), forest.nodes)))
    campaign_sv, largest_sv = _virality(forest)
    viral_k, mature = _viral_k(forest, confirmed, now or datetime.now().astimezone())
    return {
        "size": size,
        "confirmed": total_confirmed,
        "roots": roots,
        "max_depth": max(len(breadth) - 1, 0),
        "breadth_by_depth": breadth,
        "k_factor": _ratio(total_confirmed - sum(confirmed_by_depth[:1]), total_confirmed),
        "k_by_generation": [
            _ratio(confirmed_by_depth[g + 1], confirmed_by_depth[g])
            for g in range(len(breadth) - 1)
        ],
        "viral_k": viral_k,
        "k_mature_participants": mature,
        "structural_virality": campaign_sv,
        "structural_virality_largest": largest_sv,
        "referred_share": _ratio(size - roots, size),
        "median_time_to_first_referral_s": _median_time_to_first_referral(forest, created),
        "top_advocates": _top_advocates(forest, top),
        "channels": dict(sorted(Counter(map(attrgetter("channel"), forest.nodes)).items())),
        "growth_by_day": _growth_by_day(forest.nodes, created, confirmed),
        "growth_by_generation": [
            {"depth": d, "joined": b, "confirmed": c}
            for d, (b, c) in enumerate(zip(breadth, confirmed_by_depth, strict=True))
        ],
    }


def _per_depth(depths: Iterable[int], levels: int | None = None) -> list[int]:
    counts = Counter(depths)
    levels = (max(counts, default=-1) + 1) if levels is None else levels
    return [counts[d] for d in range(levels)]


def structural_virality(nodes: Iterable[Node]) -> float:
    """The campaign's structural virality (Goel, Anderson, Hofman, Watts 2016).

    For one tree of n ≥ 2 nodes: the mean distance over its n(n−1)/2 unordered pairs, that
    is its Wiener index ÷ (n(n−1)/2). The Wiener index of a tree is computed in linear time
    as the sum over its edges of s·(n−s), s the subtree size below the edge. The campaign
    value is the size-weighted mean over trees of at least 2 nodes; 0 when there are none
    (singletons have no pairs). A chain of n scores (n+1)/3, a star 2(n−1)/n.
    """
    return _virality(_forest(nodes))[0]


def _virality(forest: _Forest) -> tuple[float, float]:
    """(Campaign structural virality, that of the largest tree)."""
    subtree, root = forest.subtree, forest.root
    tree_size = array("q", map(subtree.__getitem__, root))
    # s·(n−s) for the edge above each node; a root has s = n and adds 0.
    edge_terms = array("q", map(mul, subtree, map(sub, tree_size, subtree)))
    # Size-weighted mean: Σ n·2W/(n(n−1)) ÷ Σ n = Σ 2W/(n−1) ÷ Σ n, so each edge adds
    # 2·s(n−s)/(n−1); max(n−1, 1) only spares singletons, whose 0 would be divided by 0.
    pair_scale = map(max, map(sub, tree_size, repeat(1)), repeat(1))
    total = 2 * fsum(map(truediv, edge_terms, pair_scale))
    roots = list(compress(range(len(root)), map(eq, root, range(len(root)))))
    weight = sum(n for n in map(subtree.__getitem__, roots) if n > 1)
    campaign = round(total / weight, 6) if weight else 0.0
    largest = max(roots, key=subtree.__getitem__, default=-1)  # first max: smallest id
    n = subtree[largest] if largest >= 0 else 0
    if n < 2:
        return campaign, 0.0
    wiener = sum(compress(edge_terms, map(largest.__eq__, root)))
    return campaign, round(2 * wiener / (n * (n - 1)), 6)


def _median_time_to_first_referral(forest: _Forest, created: array[float]) -> float | None:
    first = array("d", [inf]) * (len(created) + 1)  # the spare last slot takes the roots' -1
    for p, t in zip(forest.parent, created, strict=True):
        if t < first[p]:
            first[p] = t
    # Float timestamps are within 2.4e-7 s of the exact microseconds until 2038 (4.8e-7 s
    # until 2106), so rounding to 6 decimals gives the exact delay back.
    delays = list(compress(map(sub, first, created), forest.direct))
    return round(statistics.median(delays), 6) if delays else None


def _top_advocates(forest: _Forest, top: int) -> dict[str, list[dict[str, Any]]]:
    """The ``top`` advocates by direct referrals and by subtree size, highest first.

    Ties are broken by the smaller id (the earlier participant). Nodes that referred no one
    are not advocates and never listed. Each entry: ``id``, ``label``, ``direct`` (direct
    referrals in the graph) and ``subtree`` (the advocate plus everyone below).
    """
    nodes, direct, subtree = forest.nodes, forest.direct, forest.subtree

    def best(scores: array[int], floor: int) -> list[dict[str, Any]]:
        cutoff = max(min(nlargest(top, scores), default=floor), floor + 1)
        candidates = compress(range(len(scores)), map(ge, scores, repeat(cutoff)))
        # nlargest is stable: of equal scores the smaller index, that is the smaller id, wins.
        return [entry(i) for i in nlargest(top, candidates, key=scores.__getitem__)]

    def entry(i: int) -> dict[str, Any]:
        node = nodes[i]
        return {"id": node.id, "label": node.label, "direct": direct[i], "subtree": subtree[i]}

    return {"by_direct": best(direct, 0), "by_subtree": best(subtree, 1)}


def _growth_by_day(
    nodes: list[Node], created: array[float], confirmed: list[bool]
) -> list[dict[str, Any]]:
    """Joins and confirmations per UTC day, every day from the first to the last.

    A confirmed node counts on the day of its ``confirmed_at`` (its ``created_at`` when that
    is missing), so the ``confirmed`` column sums to the campaign's ``confirmed``;
    ``cumulative`` is the running total of joins. Empty input gives ``[]``.
    """
    confirmed_at = list(map(attrgetter("confirmed_at"), compress(nodes, confirmed)))
    confirmation_times = chain(
        map(datetime.timestamp, filter(None, confirmed_at)),
        compress(compress(created, confirmed), map(is_, confirmed_at, repeat(None))),
    )
    joined, confirmations = (
        Counter(map(int, map(floordiv, times, repeat(_DAY_S))))
        for times in (created, confirmation_times)
    )
    days = joined.keys() | confirmations.keys()
    if not days:
        return []
    growth, cumulative = [], 0
    for day in range(min(days), max(days) + 1):
        cumulative += joined[day]
        growth.append(
            {
                "date": (_EPOCH_DAY + timedelta(days=day)).isoformat(),
                "joined": joined[day],
                "confirmed": confirmations[day],
                "cumulative": cumulative,
            }
        )
    return growth


def _records(forest: _Forest, indexes: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Plain records of the nodes at ``indexes`` (all, in id order, by default).

    ``referrer_id`` is the parent in the graph: None for roots, including nodes whose
    referrer is rejected or absent. ``confirmed_at`` is ``""`` when missing.
    """
    nodes, parent, depth, subtree = forest.nodes, forest.parent, forest.depth, forest.subtree
    return [
        {
            "id": nodes[i].id,
            "referrer_id": nodes[parent[i]].id if parent[i] >= 0 else None,
            "depth": depth[i],
            "status": nodes[i].status,
            "channel": nodes[i].channel,
            "created_at": nodes[i].created_at.isoformat(),
            "confirmed_at": nodes[i].confirmed_at.isoformat() if nodes[i].confirmed_at else "",
            "label": nodes[i].label,
            "subtree": subtree[i],
        }
        for i in (range(len(nodes)) if indexes is None else indexes)
    ]


def _edges(records: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["referrer_id"], r["id"]] for r in records if r["referrer_id"] is not None]


def build_graph(nodes: Iterable[Node]) -> nx.DiGraph:
    """The spread graph: edges referrer → referee, rejected nodes left out.

    Node attributes are all str or int, so that GraphML and GEXF can hold them: ``status``,
    ``depth``, ``channel``, ``created_at`` and ``confirmed_at`` (ISO 8601, ``""`` when not
    confirmed), ``label`` and ``subtree``. Characters XML cannot hold are dropped from
    strings.
    """
    graph = nx.DiGraph()
    for record in _records(_forest(nodes)):  # id order: a parent is added before its edges
        node_id, referrer_id = record.pop("id"), record.pop("referrer_id")
        graph.add_node(
            node_id,
            **{k: _NOT_XML.sub("", v) if isinstance(v, str) else v for k, v in record.items()},
        )
        if referrer_id is not None:
            graph.add_edge(referrer_id, node_id)
    return graph


def to_graphml(nodes: Iterable[Node]) -> bytes:
    """The spread graph as GraphML (UTF-8); attributes as in :func:`build_graph`."""
    buffer = io.BytesIO()
    nx.write_graphml(build_graph(nodes), buffer)
    return buffer.getvalue()


def to_gexf(nodes: Iterable[Node]) -> bytes:
    """The spread graph as GEXF 1.2 (UTF-8) for Gephi; ``label`` is the GEXF node label."""
    buffer = io.BytesIO()
    nx.write_gexf(build_graph(nodes), buffer)
    return buffer.getvalue()


_JSON_FIELDS = ("id", "referrer_id", "depth", "status", "channel", "created_at", "label", "subtree")
CSV_COLUMNS = (
    "id", "referrer_id", "depth", "status", "channel", "created_at", "confirmed_at", "subtree",
    "label",
)  # fmt: skip


def to_json(nodes: Iterable[Node]) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [[referrer id, referee id], ...]}``, nodes in id order.

    Each node: ``id``, ``referrer_id`` (the parent in the graph: None for roots, including
    nodes whose referrer was rejected), ``depth``, ``status``, ``channel``, ``created_at``
    (ISO 8601), ``label``, ``subtree``.
    """
    records = _records(_forest(nodes))
    return {"nodes": [{k: r[k] for k in _JSON_FIELDS} for r in records], "edges": _edges(records)}


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def to_csv(nodes: Iterable[Node]) -> str:
    """The nodes as CSV, a header row of :data:`CSV_COLUMNS` then one row per node by id.

    ``referrer_id`` is the parent in the graph (empty for roots), ``confirmed_at`` empty when
    not confirmed. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading ``'``, so that a spreadsheet shows it instead of running it.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for record in _records(_forest(nodes)):
        writer.writerow([_safe_cell(record[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def collapse(nodes: Iterable[Node], max_nodes: int) -> dict[str, Any]:
    """The graph cut down to at most ``max_nodes`` entries, for drawing in a browser.

    Shaped like :func:`to_json` plus ``collapsed`` (whether anything was cut). With at most
    ``max_nodes`` nodes nothing is. Otherwise nodes are kept shallowest first (by depth, then
    id) for as long as the kept nodes plus the aggregates they need fit in ``max_nodes``.
    All that is cut below a kept parent becomes one aggregate node ``{"id": "agg-<parent
    id>", "aggregate": True, "count": k, "referrer_id": <parent id>}`` with an edge from the
    parent, k counting every cut node under it; cut roots and their trees become one
    ``"agg-roots"`` aggregate with no referrer. Kept nodes plus counts always make ``size``.
    Kept nodes come in id order, then the aggregates.

    :raise ValueError: when ``max_nodes`` is below 1.
    """
    if max_nodes < 1:
        raise ValueError("max_nodes must be at least 1")
    forest = _forest(nodes)
    kept = _kept_shallowest(forest, max_nodes)
    cut: Counter[int] = Counter()  # kept parent index (-1: none) → cut nodes below it
    for i, p in enumerate(forest.parent):
        if not kept[i] and (p < 0 or kept[p]):
            cut[p] += forest.subtree[i]
    records = _records(forest, compress(range(len(kept)), kept))
    ids = [n.id for n in forest.nodes]
    aggregates = [
        {
            "id": f"agg-{ids[p]}" if p >= 0 else "agg-roots",
            "aggregate": True,
            "count": k,
            "referrer_id": ids[p] if p >= 0 else None,
        }
        for p, k in sorted(cut.items())
    ]
    return {
        "nodes": [{k: r[k] for k in _JSON_FIELDS} for r in records] + aggregates,
        "edges": _edges(records + aggregates),
        "collapsed": bool(aggregates),
    }


def _kept_shallowest(forest: _Forest, budget: int) -> bytearray:
    """Flags of the longest (depth, id) prefix whose nodes plus aggregates fit in budget.

    Keeping one more node costs itself, may retire its parent's aggregate (its last cut
    child) and may open its own (when it has children): the total never shrinks, so the
    first node that overflows ends the prefix.
    """
    parent, direct = forest.parent, forest.direct
    if len(parent) <= budget:
        return bytearray(b"\x01" * len(parent))
    kept = bytearray(len(parent))
    uncut = array("q", direct)  # children of a kept node that are still cut
    cut_roots = parent.count(-1)
    aggregates, count = 1, 0  # at first every root is cut: the "agg-roots" aggregate
    for i in sorted(range(len(parent)), key=forest.depth.__getitem__):  # stable: id order
        p = parent[i]
        if p < 0:
            cut_roots -= 1
            retired = cut_roots == 0
        else:
            uncut[p] -= 1
            retired = uncut[p] == 0
        change = 1 - retired + (direct[i] > 0)
        if count + aggregates + change > budget:
            break
        kept[i], count, aggregates = 1, count + 1, aggregates + change - 1
    return kept
