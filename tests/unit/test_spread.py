"""Spread metrics, exports and the collapsed browser view (docs/DESIGN.md, Spread metrics)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral.domain.spread import Node, metrics, structural_virality
from referral.domain.spread_graph import (
    CSV_COLUMNS,
    build_graph,
    collapse,
    to_csv,
    to_gexf,
    to_graphml,
    to_json,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def node(
    id: int,
    referrer: int | None = None,
    status: str = "confirmed",
    at: float = 0.0,
    channel: str = "link",
    label: str = "",
    confirmed_after: float | None = None,
) -> Node:
    """A participation ``at`` seconds after T0, confirmed ``confirmed_after`` seconds later."""
    created = T0 + timedelta(seconds=at)
    confirmed = None if confirmed_after is None else created + timedelta(seconds=confirmed_after)
    return Node(id, referrer, status, created, confirmed, channel, label)


def tree(referrers: list[int | None], status: str = "confirmed") -> list[Node]:
    """Nodes 1..n, node i+1 referred by ``referrers[i]``, one second apart."""
    return [node(i + 1, r, status, at=i) for i, r in enumerate(referrers)]


PATH_5 = tree([None, 1, 2, 3, 4])
STAR_5 = tree([None, 1, 1, 1, 1])
BINARY_7 = tree([None, 1, 1, 2, 2, 3, 3])
# A path of 3, a star of 4 (centre 4) and a singleton (8).
FOREST = tree([None, 1, 2, None, 4, 4, 4, None])


def random_tree(choices: list[int], roots: frozenset[int] = frozenset()) -> list[Node]:
    """A random recursive forest: node i+2 picks a parent among 1..i+1 from ``choices[i]``;
    the nodes listed in ``roots`` start a new tree instead."""
    referrers: list[int | None] = [None]
    for i, choice in enumerate(choices):
        referrers.append(None if i + 2 in roots else choice % (i + 1) + 1)
    return tree(referrers)


def reference_graph(nodes: list[Node]) -> nx.DiGraph:
    """The forest straight from the referrer ids (none rejected), for networkx to check."""
    graph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in nodes)
    graph.add_edges_from((n.referrer_id, n.id) for n in nodes if n.referrer_id is not None)
    return graph


def reference_virality(nodes: list[Node]) -> tuple[float, float]:
    """Size-weighted and largest-tree structural virality the networkx all-pairs way."""
    graph = reference_graph(nodes).to_undirected()
    trees = sorted(
        (graph.subgraph(c) for c in nx.connected_components(graph)),
        key=lambda g: (-len(g), min(g)),
    )
    scores = [
        (len(g), nx.wiener_index(g) / (len(g) * (len(g) - 1) / 2)) for g in trees if len(g) > 1
    ]
    weight = sum(n for n, _ in scores)
    campaign = sum(n * sv for n, sv in scores) / weight if weight else 0.0
    largest = scores[0][1] if scores and scores[0][0] == len(trees[0]) else 0.0
    return campaign, largest


def test_metrics_hold_exactly_the_fields_of_the_api() -> None:
    assert set(metrics(PATH_5)) == {
        "size", "confirmed", "roots", "max_depth", "breadth_by_depth", "k_factor",
        "k_by_generation", "viral_k", "k_mature_participants", "structural_virality",
        "structural_virality_largest", "referred_share", "median_time_to_first_referral_s",
        "top_advocates", "channels", "growth_by_day", "growth_by_generation",
    }  # fmt: skip


def test_path_of_five_has_wiener_index_n_cubed_minus_n_over_six() -> None:
    result = metrics(PATH_5)
    n = 5
    wiener = n * (n**2 - 1) / 6  # 20
    assert result["structural_virality"] == pytest.approx(wiener / (n * (n - 1) / 2)) == 2.0
    assert result["structural_virality_largest"] == 2.0
    assert result["max_depth"] == 4
    assert result["breadth_by_depth"] == [1, 1, 1, 1, 1]
    assert result["roots"] == 1
    assert result["referred_share"] == 0.8
    assert result["k_factor"] == 0.8
    assert result["k_by_generation"] == [1.0, 1.0, 1.0, 1.0]


def test_star_of_one_and_four_has_virality_two_n_minus_one_over_n() -> None:
    result = metrics(STAR_5)
    assert result["structural_virality"] == pytest.approx(2 * 4 / 5) == 1.6
    assert result["max_depth"] == 1
    assert result["breadth_by_depth"] == [1, 4]
    assert result["k_by_generation"] == [4.0]
    assert result["top_advocates"]["by_direct"] == [
        {"id": 1, "label": "", "direct": 4, "subtree": 5}
    ]


def test_balanced_binary_tree_of_depth_two() -> None:
    result = metrics(BINARY_7)
    # Edges below the root carry s=3 (3·4 twice), edges to the leaves s=1 (1·6 four times).
    assert result["structural_virality"] == round((2 * 12 + 4 * 6) / 21, 6)
    assert result["breadth_by_depth"] == [1, 2, 4]
    assert result["max_depth"] == 2
    assert result["k_by_generation"] == [2.0, 2.0]
    assert [a["id"] for a in result["top_advocates"]["by_subtree"]] == [1, 2, 3]


def test_forest_virality_is_the_size_weighted_mean_over_trees_of_two_or_more() -> None:
    result = metrics(FOREST)
    path_3, star_4 = 4 / 3, 2 * 3 / 4
    assert result["structural_virality"] == round((3 * path_3 + 4 * star_4) / 7, 6)
    assert result["structural_virality_largest"] == 1.5
    assert result["size"] == 8
    assert result["roots"] == 3
    assert result["breadth_by_depth"] == [3, 4, 1]
    assert result["referred_share"] == round(5 / 8, 6)


def test_empty_input_gives_zeros_and_no_median() -> None:
    assert metrics([]) == {
        "size": 0,
        "confirmed": 0,
        "roots": 0,
        "max_depth": 0,
        "breadth_by_depth": [],
        "k_factor": 0.0,
        "k_by_generation": [],
        "viral_k": 0.0,
        "k_mature_participants": 0,
        "structural_virality": 0.0,
        "structural_virality_largest": 0.0,
        "referred_share": 0.0,
        "median_time_to_first_referral_s": None,
        "top_advocates": {"by_direct": [], "by_subtree": []},
        "channels": {},
        "growth_by_day": [],
        "growth_by_generation": [],
    }


def test_singletons_only_have_no_virality() -> None:
    result = metrics(tree([None, None, None]))
    assert result["structural_virality"] == result["structural_virality_largest"] == 0.0
    assert result["max_depth"] == 0
    assert result["k_by_generation"] == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60))
def test_structural_virality_equals_networkx_wiener_index_on_random_trees(
    choices: list[int],
) -> None:
    nodes = random_tree(choices)
    n = len(nodes)
    expected = nx.wiener_index(reference_graph(nodes).to_undirected()) / (n * (n - 1) / 2)
    assert structural_virality(nodes) == pytest.approx(expected, abs=1e-6)
    assert metrics(nodes)["structural_virality_largest"] == pytest.approx(expected, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**6), max_size=60),
    st.frozensets(st.integers(min_value=2, max_value=61), max_size=8),
)
def test_forest_metrics_match_networkx_on_random_forests(
    choices: list[int], roots: frozenset[int]
) -> None:
    nodes = random_tree(choices, roots)
    graph = reference_graph(nodes)
    result = metrics(nodes, top=5)
    campaign, largest = reference_virality(nodes)
    assert result["structural_virality"] == pytest.approx(campaign, abs=1e-6)
    assert result["structural_virality_largest"] == pytest.approx(largest, abs=1e-6)
    depths = [
        d
        for r in graph
        if graph.in_degree(r) == 0
        for d in nx.shortest_path_length(graph, r).values()
    ]
    assert result["breadth_by_depth"] == [depths.count(d) for d in range(max(depths) + 1)]
    assert result["max_depth"] == max(depths)
    reach = {v: 1 + len(nx.descendants(graph, v)) for v in graph if graph.out_degree(v)}
    by_subtree = sorted(reach, key=lambda v: (-reach[v], v))[:5]
    assert [(a["id"], a["subtree"]) for a in result["top_advocates"]["by_subtree"]] == [
        (v, reach[v]) for v in by_subtree
    ]


def test_k_by_generation_divides_confirmed_at_each_depth_by_the_one_above() -> None:
    nodes = [
        node(1),
        node(2, 1),
        node(3, 1),
        node(4, 1, "pending"),
        node(5, 2),
        node(6, 2),
        node(7, 3),
        node(8, 3, "flagged"),
        node(9, 5, "pending"),
        node(10, 9),
    ]
    result = metrics(nodes)
    # Confirmed per depth: 1, 2, 3, 0, 1; a depth without confirmed nodes divides to 0.
    assert result["k_by_generation"] == [2.0, 1.5, 0.0, 0.0]
    assert result["confirmed"] == 7
    assert result["k_factor"] == round(6 / 7, 6)
    assert result["growth_by_generation"] == [
        {"depth": 0, "joined": 1, "confirmed": 1},
        {"depth": 1, "joined": 3, "confirmed": 2},
        {"depth": 2, "joined": 4, "confirmed": 3},
        {"depth": 3, "joined": 1, "confirmed": 0},
        {"depth": 4, "joined": 1, "confirmed": 1},
    ]


def test_rejected_nodes_are_left_out_and_their_children_become_roots() -> None:
    nodes = [node(1), node(2, 1, "rejected"), node(3, 2), node(4, 2), node(5, 4)]
    result = metrics(nodes)
    assert result["size"] == 4
    assert result["roots"] == 3  # 1, plus 3 and 4 whose referrer is rejected
    assert result["breadth_by_depth"] == [3, 1]
    graph = build_graph(nodes)
    assert 2 not in graph
    assert sorted(graph.edges) == [(4, 5)]
    assert [n["referrer_id"] for n in to_json(nodes)["nodes"]] == [None, None, None, 4]


def test_a_referrer_missing_from_the_input_makes_a_root() -> None:
    result = metrics([node(5, 3), node(6, 5)])
    assert (result["roots"], result["max_depth"]) == (1, 1)


def test_sparse_ids_give_the_same_metrics_as_dense_ones() -> None:
    sparse = [
        node(n.id * 10**6, n.referrer_id and n.referrer_id * 10**6, at=i)
        for i, n in enumerate(BINARY_7)
    ]
    dense, scattered = metrics(BINARY_7), metrics(sparse)
    assert scattered["structural_virality"] == dense["structural_virality"]
    assert scattered["breadth_by_depth"] == dense["breadth_by_depth"]
    assert scattered["top_advocates"]["by_direct"][0]["id"] == 10**6


def test_a_referrer_id_not_below_the_node_id_is_refused() -> None:
    with pytest.raises(ValueError, match="smaller"):
        metrics([node(1, 2), node(2)])


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        metrics([node(1), node(1)])


def test_median_time_to_first_referral_uses_each_referrers_earliest_child() -> None:
    nodes = [
        node(1, at=0),
        node(2, 1, at=100),
        node(3, 1, at=50.000001),  # a higher id but earlier: node 1 waited 50.000001 s
        node(4, 2, at=400),  # node 2 waited 300 s
        node(5, 3, at=70.000001),  # node 3 waited 20 s
    ]
    assert metrics(nodes)["median_time_to_first_referral_s"] == 50.000001


def test_median_time_to_first_referral_is_none_when_nobody_referred() -> None:
    assert metrics(tree([None, None]))["median_time_to_first_referral_s"] is None


def test_growth_by_day_counts_utc_days_from_first_to_last_including_quiet_ones() -> None:
    paris = timezone(timedelta(hours=2))
    nodes = [
        # 01:00 in Paris on 2 March is 23:00 UTC on 1 March.
        Node(1, None, "confirmed", datetime(2025, 3, 2, 1, tzinfo=paris), None, "direct"),
        node(2, 1, at=3600, confirmed_after=86_400),  # joins 1 March, confirms 2 March
        node(3, 1, "pending", at=3 * 86_400),
        node(4, 1, "confirmed", at=3 * 86_400, confirmed_after=60),
    ]
    assert metrics(nodes)["growth_by_day"] == [
        {"date": "2025-03-01", "joined": 2, "confirmed": 1, "cumulative": 2},
        {"date": "2025-03-02", "joined": 0, "confirmed": 1, "cumulative": 2},
        {"date": "2025-03-03", "joined": 0, "confirmed": 0, "cumulative": 2},
        {"date": "2025-03-04", "joined": 2, "confirmed": 1, "cumulative": 4},
    ]


def test_channels_count_joins_per_channel_without_rejected_ones() -> None:
    nodes = [
        node(1, channel="direct"),
        node(2, 1, channel="qr"),
        node(3, 1, channel="qr"),
        node(4, 1, channel="whatsapp", status="rejected"),
        node(5, 1, channel="email"),
    ]
    assert metrics(nodes)["channels"] == {"direct": 1, "email": 1, "qr": 2}


def test_top_advocates_break_ties_by_the_smaller_id_and_skip_non_referrers() -> None:
    # 3 and 2 both refer two people; 1 refers 2 and 3, so its subtree is the largest.
    nodes = tree([None, 1, 1, 3, 3, 2, 2, None])
    nodes[2] = node(3, 1, at=2, label="Chloé")
    result = metrics(nodes, top=2)["top_advocates"]
    assert result["by_direct"] == [
        {"id": 1, "label": "", "direct": 2, "subtree": 7},
        {"id": 2, "label": "", "direct": 2, "subtree": 3},
    ]
    assert [a["id"] for a in result["by_subtree"]] == [1, 2]
    everyone = metrics(nodes, top=10)["top_advocates"]["by_direct"]
    assert [a["id"] for a in everyone] == [1, 2, 3]  # 4..8 referred nobody
    assert everyone[2]["label"] == "Chloé"


def test_graphml_export_parses_back_with_its_attributes() -> None:
    nodes = [*FOREST, node(9, 8, "rejected")]
    graph = nx.read_graphml(io.BytesIO(to_graphml(nodes)), node_type=int)
    assert sorted(graph.edges) == sorted(build_graph(FOREST).edges)
    assert graph.nodes[5] == {
        "depth": 1,
        "status": "confirmed",
        "channel": "link",
        "created_at": (T0 + timedelta(seconds=4)).isoformat(),
        "confirmed_at": "",
        "label": "",
        "subtree": 1,
    }
    assert graph.nodes[4]["subtree"] == 4


def test_gexf_export_parses_back_with_labels_and_no_xml_breaking_characters() -> None:
    nodes = [node(1, label="Zoë <&> \x00\x1b"), node(2, 1)]
    graph = nx.read_gexf(io.BytesIO(to_gexf(nodes)), node_type=int)
    assert list(graph.edges) == [(1, 2)]
    assert graph.nodes[1]["label"] == "Zoë <&> "
    assert graph.nodes[1]["subtree"] == 2
    assert graph.nodes[2]["depth"] == 1


def test_json_export_lists_nodes_in_id_order_and_edges_referrer_to_referee() -> None:
    exported = to_json(STAR_5)
    assert exported["edges"] == [[1, 2], [1, 3], [1, 4], [1, 5]]
    assert exported["nodes"][0] == {
        "id": 1,
        "referrer_id": None,
        "depth": 0,
        "status": "confirmed",
        "channel": "link",
        "created_at": T0.isoformat(),
        "label": "",
        "subtree": 5,
    }


def test_csv_export_parses_back_with_a_header_and_one_row_per_node() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(PATH_5))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["id"], r["referrer_id"], r["depth"], r["subtree"]) for r in rows] == [
        ("1", "", "0", "5"),
        ("2", "1", "1", "4"),
        ("3", "2", "2", "3"),
        ("4", "3", "3", "2"),
        ("5", "4", "4", "1"),
    ]


@pytest.mark.parametrize("label", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_export_neutralises_spreadsheet_formulas(label: str) -> None:
    nodes = [node(1, label=label, channel='=HYPERLINK("http://evil")'), node(2, 1, label="Ann")]
    rows = list(csv.DictReader(io.StringIO(to_csv(nodes))))
    assert rows[0]["label"] == "'" + label
    assert rows[0]["channel"].startswith("'=")
    assert rows[1]["label"] == "Ann"


def test_collapse_returns_everything_when_it_fits() -> None:
    view = collapse(BINARY_7, 7)
    assert view["collapsed"] is False
    assert len(view["nodes"]) == 7
    assert view["edges"] == to_json(BINARY_7)["edges"]


def test_collapse_keeps_the_shallowest_nodes_and_aggregates_the_rest_per_parent() -> None:
    view = collapse(STAR_5, 3)
    assert [n["id"] for n in view["nodes"]] == [1, 2, "agg-1"]
    assert view["nodes"][-1] == {"id": "agg-1", "aggregate": True, "count": 3, "referrer_id": 1}
    assert view["edges"] == [[1, 2], [1, "agg-1"]]


def test_collapse_puts_cut_roots_into_one_aggregate() -> None:
    view = collapse(tree([None, None, None, None]), 2)
    assert view["nodes"][0]["id"] == 1
    assert view["nodes"][1] == {
        "id": "agg-roots",
        "aggregate": True,
        "count": 3,
        "referrer_id": None,
    }
    assert view["edges"] == []


def test_collapse_refuses_a_budget_below_one() -> None:
    with pytest.raises(ValueError):
        collapse(STAR_5, 0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**6), max_size=80),
    st.frozensets(st.integers(min_value=2, max_value=81), max_size=5),
    st.integers(min_value=1, max_value=40),
)
def test_collapse_keeps_counts_right(
    choices: list[int], roots: frozenset[int], max_nodes: int
) -> None:
    nodes = random_tree(choices, roots)
    view = collapse(nodes, max_nodes)
    kept = [n for n in view["nodes"] if not n.get("aggregate")]
    aggregates = [n for n in view["nodes"] if n.get("aggregate")]
    assert len(view["nodes"]) <= max_nodes
    assert len(kept) + sum(a["count"] for a in aggregates) == len(nodes)
    kept_ids = {n["id"] for n in kept}
    order = sorted((n["depth"], n["id"]) for n in to_json(nodes)["nodes"])
    assert {i for _, i in order[: len(kept)]} == kept_ids  # shallowest first, then by id
    for src, dst in view["edges"]:
        assert src in kept_ids
        assert dst in kept_ids or dst == f"agg-{src}"
    graph = build_graph(nodes)
    for aggregate in aggregates:
        parent = aggregate["referrer_id"]
        if parent is None:
            assert aggregate["id"] == "agg-roots"
            tops = [v for v in graph if graph.in_degree(v) == 0 and v not in kept_ids]
        else:
            assert parent in kept_ids
            tops = [c for c in graph.successors(parent) if c not in kept_ids]
        assert tops and aggregate["count"] == sum(1 + len(nx.descendants(graph, c)) for c in tops)
    assert view["collapsed"] is (len(nodes) > max_nodes)


# --- viral K: mean confirmed referrals per participant old enough to have referred -----------


def test_viral_k_is_the_mean_referrals_of_mature_participants() -> None:
    # 1 brought 2, 3 and 4; 2 brought 5. A week later all five are mature: 4 referrals / 5.
    nodes = tree([None, 1, 1, 1, 2])
    later = metrics(nodes, now=T0 + timedelta(days=30))
    assert later["k_mature_participants"] == 5 and later["viral_k"] == 0.8
    assert later["k_factor"] == 0.8  # the referred share, a different figure in general


def test_newcomers_who_had_no_time_to_share_do_not_pull_viral_k_down() -> None:
    # Node 1 joined at T0 and brought 2 and 3 a few seconds later; ten newcomers joined
    # today, so within the week none of them could have referred anyone yet.
    old = tree([None, 1, 1])
    today = T0 + timedelta(days=30)
    newcomers = [node(100 + i, None, at=(today - T0).total_seconds() - 60) for i in range(10)]
    result = metrics(old + newcomers, now=today)
    assert result["k_mature_participants"] == 3
    assert result["viral_k"] == round(2 / 3, 6)
    assert result["referred_share"] == round(2 / 13, 6)


def test_nobody_mature_yet_gives_viral_k_zero_over_zero_people() -> None:
    result = metrics(tree([None, 1, 1]), now=T0 + timedelta(days=1))
    assert result["viral_k"] == 0.0 and result["k_mature_participants"] == 0


def test_unconfirmed_friends_do_not_count_towards_viral_k() -> None:
    nodes = tree([None, 1]) + [node(3, 1, status="pending")]
    result = metrics(nodes, now=T0 + timedelta(days=30))
    assert result["k_mature_participants"] == 2 and result["viral_k"] == 0.5
