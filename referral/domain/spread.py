"""The word-of-mouth spread graph of a campaign and its metrics.

The graph holds every participation except ``rejected`` ones; an edge runs referrer → referee.
A node whose referrer is rejected or absent from the input is a root (depth 0). Ids satisfy
``referrer_id < id``, so the graph is a forest and nodes in id order list every parent before
its children: metrics are computed on flat arrays in a few O(n) passes (10^6 nodes in a few
seconds, see bench/spread.py). The exports and the browser view are in
:mod:`referral.domain.spread_graph`, the one place networkx is used.

A node's ``subtree`` counts the node itself and everyone below it.
"""

from __future__ import annotations

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

CONFIRMED = "confirmed"
REJECTED = "rejected"
_DAY_S = 86_400
_EPOCH_DAY = date(1970, 1, 1)


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
class Forest:
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
    @classmethod
    def of(cls, nodes: Iterable[Node]) -> Forest:
        """The graph of ``nodes``, rejected ones left out.

        :raise ValueError: when ids repeat, or a referrer's id is not below its referee's.
        """
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
        return cls(kept, parent, depth, root, subtree, direct)


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


def _viral_k(forest: Forest, confirmed: list[bool], now: datetime) -> tuple[float, int]:
    """``viral_k`` and ``k_mature_participants``: confirmed referrals made by mature
    participants ÷ mature participants, and how many of them there are. A participant is
    mature once confirmed at least :data:`MATURITY` before ``now``: the K growth teams read,
    the mean number of friends each participant brought in, not pulled down by newcomers who
    had no time to share yet. 0 when nobody is mature."""
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


@dataclass(frozen=True, slots=True)
class _Generations:
    """How many nodes, and how many confirmed nodes, stand at each depth."""

    joined: list[int]
    confirmed: list[int]

    @classmethod
    def of(cls, forest: Forest, confirmed: list[bool]) -> _Generations:
        joined = _per_depth(forest.depth)
        return cls(joined, _per_depth(compress(forest.depth, confirmed), len(joined)))

    def shape(self) -> dict[str, Any]:
        """``size`` nodes; ``confirmed`` nodes with status confirmed; ``roots`` nodes
        without a referrer in the graph; ``max_depth`` the deepest depth (0 when empty);
        ``breadth_by_depth[d]`` the nodes at depth d (``[]`` when empty);
        ``k_factor`` = confirmed nodes that have a referrer ÷ confirmed nodes (0 when none);
        ``k_by_generation[g]`` = confirmed nodes at depth g+1 ÷ confirmed nodes at depth g,
        0.0 when depth g has no confirmed node (``max_depth`` entries)."""
        joined, confirmed = self.joined, self.confirmed
        total_confirmed = sum(confirmed)
        return {
            "size": sum(joined),
            "confirmed": total_confirmed,
            "roots": sum(joined[:1]),
            "max_depth": max(len(joined) - 1, 0),
            "breadth_by_depth": joined,
            "k_factor": _ratio(total_confirmed - sum(confirmed[:1]), total_confirmed),
            "k_by_generation": [
                _ratio(confirmed[g + 1], confirmed[g]) for g in range(len(joined) - 1)
            ],
        }

    def growth(self) -> list[dict[str, int]]:
        """``growth_by_generation[d]`` = ``{"depth", "joined", "confirmed"}`` for depth d."""
        return [
            {"depth": d, "joined": b, "confirmed": c}
            for d, (b, c) in enumerate(zip(self.joined, self.confirmed, strict=True))
        ]


def metrics(nodes: Iterable[Node], top: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """Every spread metric of a campaign (docs/DESIGN.md, Spread metrics); floats to 6 decimals.

    - ``size`` … ``k_by_generation``: the graph's shape by depth, see :meth:`_Generations.shape`.
    - ``viral_k`` and ``k_mature_participants``: see :func:`_viral_k`.
    - ``structural_virality`` and ``structural_virality_largest``: see
      :func:`structural_virality`; the largest tree is the one with the most nodes, the
      smallest root id winning a tie.
    - ``referred_share`` = nodes with a referrer ÷ size (0 when empty).
    - ``median_time_to_first_referral_s``: see :func:`_median_time_to_first_referral`.
    - ``top_advocates``: see :func:`_top_advocates`; ``channels``: joins per channel.
    - ``growth_by_day``: see :func:`_growth_by_day`; ``growth_by_generation``: see
      :meth:`_Generations.growth`.
    """
    forest = Forest.of(nodes)
    confirmed = list(map(CONFIRMED.__eq__, map(attrgetter("status"), forest.nodes)))
    generations = _Generations.of(forest, confirmed)
    created = array("d", map(datetime.timestamp, map(attrgetter("created_at"), forest.nodes)))
    campaign_sv, largest_sv = _virality(forest)
    viral_k, mature = _viral_k(forest, confirmed, now or datetime.now().astimezone())
    shape = generations.shape()
    return {
        **shape,
        "viral_k": viral_k,
        "k_mature_participants": mature,
        "structural_virality": campaign_sv,
        "structural_virality_largest": largest_sv,
        "referred_share": _ratio(shape["size"] - shape["roots"], shape["size"]),
        "median_time_to_first_referral_s": _median_time_to_first_referral(forest, created),
        "top_advocates": _top_advocates(forest, top),
        "channels": dict(sorted(Counter(map(attrgetter("channel"), forest.nodes)).items())),
        "growth_by_day": _growth_by_day(forest.nodes, created, confirmed),
        "growth_by_generation": generations.growth(),
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
    return _virality(Forest.of(nodes))[0]


def _virality(forest: Forest) -> tuple[float, float]:
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


def _median_time_to_first_referral(forest: Forest, created: array[float]) -> float | None:
    """Over the nodes that referred anyone, the median of the seconds from the node's
    ``created_at`` to its earliest child's; None when nobody referred."""
    first = array("d", [inf]) * (len(created) + 1)  # the spare last slot takes the roots' -1
    for p, t in zip(forest.parent, created, strict=True):
        if t < first[p]:
            first[p] = t
    # Float timestamps are within 2.4e-7 s of the exact microseconds until 2038 (4.8e-7 s
    # until 2106), so rounding to 6 decimals gives the exact delay back.
    delays = list(compress(map(sub, first, created), forest.direct))
    return round(statistics.median(delays), 6) if delays else None


def _top_advocates(forest: Forest, top: int) -> dict[str, list[dict[str, Any]]]:
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
