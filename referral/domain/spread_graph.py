"""The spread graph of a campaign as files and as a view a browser can draw: GraphML and
GEXF (built with networkx), JSON and CSV, and the graph collapsed to a node budget.

Nodes and their order are those of :mod:`referral.domain.spread`: rejected participations
are left out, a node whose referrer is rejected or absent is a root, and nodes come in id
order, every parent before its children.
"""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from itertools import compress
from typing import Any

import networkx as nx

from referral.domain.spread import Forest, Node

# Spreadsheets run a cell starting with these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 forbids: a label holding one would make the GraphML/GEXF unreadable.
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _records(forest: Forest, indexes: Iterable[int] | None = None) -> list[dict[str, Any]]:
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
            "confirmed_at": _iso_or_blank(nodes[i].confirmed_at),
            "label": nodes[i].label,
            "subtree": subtree[i],
        }
        for i in (range(len(nodes)) if indexes is None else indexes)
    ]


def _iso_or_blank(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _edges(records: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["referrer_id"], r["id"]] for r in records if r["referrer_id"] is not None]


def build_graph(nodes: Iterable[Node]) -> nx.DiGraph[int]:
    """The spread graph: edges referrer → referee, rejected nodes left out.

    Node attributes are all str or int, so that GraphML and GEXF can hold them: ``status``,
    ``depth``, ``channel``, ``created_at`` and ``confirmed_at`` (ISO 8601, ``""`` when not
    confirmed), ``label`` and ``subtree``. Characters XML cannot hold are dropped from
    strings.
    """
    graph: nx.DiGraph[int] = nx.DiGraph()
    for record in _records(Forest.of(nodes)):  # id order: a parent is added before its edges
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
    records = _records(Forest.of(nodes))
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
    for record in _records(Forest.of(nodes)):
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
    forest = Forest.of(nodes)
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


def _kept_shallowest(forest: Forest, budget: int) -> bytearray:
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
