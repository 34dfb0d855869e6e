"""The spread graph read from the database: metrics and their cache, the dashboard's numbers,
the browser view's data, search, charts and exports (on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx
import pytest
from sqlalchemy import select

from referral.domain import spread as domain
from referral.domain.errors import NotFound
from referral.domain.spread_graph import CSV_COLUMNS
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Event,
    LedgerEntry,
    Participation,
    RewardRule,
    Workspace,
)
from referral.services import dashboard, exports, spread, spread_view
from tests.factories import Factory, add_click

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Ids restart in every test's fresh database: a cached result of an earlier test with
    the same fingerprint must not answer for this one."""
    spread._CACHE.clear()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def build_tree(factory: Factory, campaign: Campaign) -> dict[str, Participation]:
    """Two trees and a rejected participant whose referee becomes a root of its own::

    anna ─┬─ ben ─┬─ dan ── eve
          │       └─ fay (rejected) ── gus
          └─ cat
    hal (a root) ── ida
    """
    made: dict[str, Participation] = {}
    workspace = db.session.get(Workspace, campaign.workspace_id)

    def add(name: str, parent: str | None, hours: float, **kw: Any) -> None:
        kw.setdefault("status", "confirmed")
        if kw["status"] == "confirmed":
            kw.setdefault("confirmed_at", at(hours + 0.5))
        made[name] = factory.participation(
            campaign,
            made[parent] if parent else None,
            customer=factory.customer(workspace, f"{name}@example.org"),
            created_at=at(hours),
            channel="direct" if parent is None else "link",
            **kw,
        )

    add("anna", None, 0, utm={"utm_source": "newsletter"})
    add("ben", "anna", 2)
    add("cat", "anna", 3)
    add("dan", "ben", 26)
    add("eve", "dan", 50, status="pending")
    add("fay", "ben", 51, status="rejected")
    add("gus", "fay", 52)
    add("hal", None, 53, utm={"utm_source": "instagram"})
    add("ida", "hal", 80, status="flagged")
    return made


def nodes_of(rows: dict[str, Participation]) -> list[domain.Node]:
    return [
        domain.Node(p.id, p.referrer_id, p.status, p.created_at, p.confirmed_at, p.channel)
        for p in sorted(rows.values(), key=lambda p: p.id)
    ]


@pytest.fixture
def tree(factory: Factory) -> tuple[Campaign, dict[str, Participation]]:
    campaign = factory.campaign(status="live")
    return campaign, build_tree(factory, campaign)


# --- metrics and their cache ---------------------------------------------------------------


def test_metrics_of_a_tree_built_in_the_database_equal_the_domain_metrics(tree) -> None:
    campaign, rows = tree
    from_db = spread.campaign_metrics(campaign)
    assert from_db == domain.metrics(nodes_of(rows))
    assert from_db["size"] == 8  # fay (rejected) is not in the graph
    assert from_db["roots"] == 3  # anna, hal, and gus whose referrer was rejected
    assert from_db["max_depth"] == 3
    assert from_db["confirmed"] == 6
    assert from_db["top_advocates"]["by_subtree"][0]["id"] == rows["anna"].id


def test_load_nodes_reads_every_participation_in_id_order_with_labels_on_request(tree) -> None:
    campaign, rows = tree
    loaded = spread.load_nodes(campaign.id, with_labels=True)
    assert [n.id for n in loaded] == sorted(p.id for p in rows.values())
    assert loaded[0].label == "anna@example.org"
    assert loaded[0].created_at == at(0)


def test_the_cached_metrics_are_reused_while_nothing_changes(tree, monkeypatch) -> None:
    campaign, _rows = tree
    calls: list[int] = []
    real = spread.load_nodes
    monkeypatch.setattr(
        spread, "load_nodes", lambda cid, **kw: calls.append(cid) or real(cid, **kw)
    )
    first = spread.campaign_metrics(campaign)
    again = spread.campaign_metrics(campaign)
    assert again is first
    assert calls == [campaign.id]


def test_a_new_participation_refreshes_the_cached_metrics(tree, factory: Factory) -> None:
    campaign, rows = tree
    before_key = spread.fingerprint(campaign.id)
    before = spread.campaign_metrics(campaign)
    factory.participation(campaign, rows["cat"], status="confirmed", confirmed_at=at(90))
    assert spread.fingerprint(campaign.id) != before_key
    after = spread.campaign_metrics(campaign)
    assert after["size"] == before["size"] + 1


def test_a_status_change_refreshes_the_cached_metrics(tree) -> None:
    campaign, rows = tree
    before = spread.campaign_metrics(campaign)
    rows["eve"].status = "confirmed"
    rows["eve"].confirmed_at = at(60)
    db.session.commit()
    assert spread.campaign_metrics(campaign)["confirmed"] == before["confirmed"] + 1


def test_another_campaigns_participations_leave_the_cache_alone(tree, factory: Factory) -> None:
    campaign, _rows = tree
    first = spread.campaign_metrics(campaign)
    other = factory.campaign(db.session.get(Workspace, campaign.workspace_id))
    factory.participation(other)
    assert spread.campaign_metrics(campaign) is first


# --- the dashboard ---------------------------------------------------------------------------


def test_the_funnel_counts_visits_joins_confirmed_and_conversions(tree) -> None:
    campaign, rows = tree
    for hours in (1, 1.5, 4):
        add_click(rows["anna"], at(hours))
    for name, kind in (("ben", "purchase"), ("ben", "trial_converted"), ("cat", "refund"),
                       ("fay", "purchase")):  # fmt: skip
        db.session.add(Event(workspace_id=campaign.workspace_id, campaign_id=campaign.id,
                             customer_id=rows[name].customer_id, participation_id=rows[name].id,
                             kind=kind, occurred_at=at(100)))  # fmt: skip
    db.session.commit()
    assert dashboard.funnel(campaign) == {"visits": 3, "joins": 8, "confirmed": 6, "converted": 1}


def test_the_dashboard_lists_top_advocates_with_their_customer_and_utm_sources(tree) -> None:
    campaign, rows = tree
    data = dashboard.dashboard(campaign)
    best = data["advocates"]["by_direct"][0]
    assert (best["id"], best["customer_id"], best["email"], best["direct"]) == (
        rows["anna"].id, rows["anna"].customer_id, "anna@example.org", 2)  # fmt: skip
    assert [a["id"] for a in data["advocates"]["by_subtree"]][:2] == [
        rows["anna"].id,
        rows["ben"].id,
    ]
    assert data["sources"] == {"instagram": 1, "newsletter": 1}


@pytest.mark.parametrize("chart", dashboard.CHARTS)
@pytest.mark.parametrize("empty", [False, True])
def test_every_chart_is_an_svg_without_script(
    tree, factory: Factory, chart: str, empty: bool
) -> None:
    campaign = factory.campaign() if empty else tree[0]
    labels = {"title": "T", "no_data": "Nothing", "visits": "V", "joins": "J", "confirmed": "C",
              "converted": "X", "joined": "J", "cumulative": "All", "x_title": "G"}  # fmt: skip
    svg = dashboard.chart_svg(campaign, chart, labels)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<script" not in svg.lower()
    assert ("Nothing" in svg) == empty


def test_an_unknown_chart_is_not_found(tree) -> None:
    with pytest.raises(NotFound):
        dashboard.chart_svg(tree[0], "pie-in-the-sky", {"title": "", "no_data": ""})


# --- the browser view ------------------------------------------------------------------------


def test_the_view_masks_every_address_and_carries_customer_and_referrals(tree) -> None:
    campaign, rows = tree
    view = spread_view.spread_view(campaign, max_nodes=100)
    assert view["collapsed"] is False and view["size"] == view["shown"] == 8
    by_id = {n["id"]: n for n in view["nodes"]}
    anna = by_id[rows["anna"].id]
    assert anna["label"] == "a***@e***.org"
    assert anna["customer_id"] == rows["anna"].customer_id
    assert (anna["direct"], anna["subtree"], anna["depth"]) == (2, 5, 0)
    assert by_id[rows["ben"].id]["direct"] == 1  # fay was rejected: not a referral in the graph
    assert "@example.org" not in json.dumps(view)
    assert rows["fay"].id not in by_id


def test_above_the_threshold_the_view_is_collapsed_into_groups(tree) -> None:
    campaign, rows = tree
    view = spread_view.spread_view(campaign, max_nodes=5)
    assert view["collapsed"] is True
    groups = [n for n in view["nodes"] if n.get("aggregate")]
    assert groups and len(view["nodes"]) <= 5
    assert view["shown"] + sum(g["count"] for g in groups) == view["size"] == 8


def test_a_root_opens_its_subtree_with_the_depths_of_the_whole_graph(tree) -> None:
    campaign, rows = tree
    view = spread_view.spread_view(campaign, max_nodes=100, root=rows["ben"].id)
    by_id = {n["id"]: n for n in view["nodes"]}
    assert set(by_id) == {rows["ben"].id, rows["dan"].id, rows["eve"].id}  # not fay, nor gus
    assert by_id[rows["ben"].id]["referrer_id"] == rows["anna"].id
    assert by_id[rows["ben"].id]["depth"] == 1 and by_id[rows["eve"].id]["depth"] == 3
    assert view["edges"] == [[rows["ben"].id, rows["dan"].id], [rows["dan"].id, rows["eve"].id]]


def test_below_a_rejected_participant_depths_restart(tree) -> None:
    campaign, rows = tree
    view = spread_view.spread_view(campaign, max_nodes=100, root=rows["gus"].id)
    assert [(n["id"], n["depth"], n["referrer_id"]) for n in view["nodes"]] == [
        (rows["gus"].id, 0, None)
    ]


@pytest.mark.parametrize("who", ["fay", "elsewhere", "nobody"])
def test_a_root_outside_the_graph_is_not_found(tree, factory: Factory, who: str) -> None:
    campaign, rows = tree
    ident = {"fay": rows["fay"].id, "nobody": 10_000}.get(who)
    if who == "elsewhere":
        ident = factory.participation(factory.campaign()).id
    with pytest.raises(NotFound):
        spread_view.spread_view(campaign, 100, root=ident)


def test_search_finds_a_participant_by_code_or_by_part_of_the_address(tree) -> None:
    campaign, rows = tree
    found = spread_view.find_node(campaign, rows["eve"].referral_code)
    assert found == {"id": rows["eve"].id, "ancestors": [rows["anna"].id, rows["ben"].id,
                                                         rows["dan"].id]}  # fmt: skip
    assert spread_view.find_node(campaign, "  DAN@ ")["id"] == rows["dan"].id  # type: ignore[index]
    assert spread_view.find_node(campaign, "fay@example.org") is None  # rejected: not drawn
    assert spread_view.find_node(campaign, "") is None
    assert spread_view.find_node(campaign, "50%_") is None  # LIKE wildcards are plain text


def test_search_never_finds_a_participant_of_another_campaign(tree, factory: Factory) -> None:
    campaign, _rows = tree
    other = factory.participation(factory.campaign())
    assert spread_view.find_node(campaign, other.referral_code) is None


# --- exports ---------------------------------------------------------------------------------


def test_graph_exports_parse_back_with_networkx_and_csv(tree, factory: Factory) -> None:
    campaign, rows = tree
    marketer, _ = factory.marketer(workspace=db.session.get(Workspace, campaign.workspace_id))
    fay = rows["fay"].id
    edges = {(str(p.referrer_id), str(p.id)) for p in rows.values()
             if p.referrer_id and fay not in (p.id, p.referrer_id)}  # fmt: skip
    for fmt, read in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        content, mimetype, extension = exports.export_graph(campaign, fmt, marketer)
        graph = read(io.BytesIO(content))
        assert extension == fmt and mimetype.endswith("+xml")
        assert graph.number_of_nodes() == 8 and set(graph.edges) == edges
    content, _, _ = exports.export_graph(campaign, "json", marketer)
    assert len(json.loads(content)["nodes"]) == 8
    content, _, _ = exports.export_graph(campaign, "csv", marketer)
    table = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(table) == 8 and set(table[0]) == set(CSV_COLUMNS)
    audited = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert audited == ["export.graph.graphml", "export.graph.gexf", "export.graph.json",
                       "export.graph.csv"]  # fmt: skip
    with pytest.raises(NotFound):
        exports.export_graph(campaign, "xlsx", marketer)


DANGEROUS = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value
    assert exports.safe_cell("plain") == "plain"
    assert exports.safe_cell(-5) == -5 and exports.safe_cell(None) == ""


def test_the_participants_csv_neutralises_formulas_and_parses_back(tree, factory: Factory) -> None:
    campaign, rows = tree
    workspace = db.session.get(Workspace, campaign.workspace_id)
    for n, name in enumerate(DANGEROUS):
        customer = factory.customer(workspace, f"evil{n}@example.org")
        customer.name = name
        factory.participation(campaign, customer=customer, utm={"utm_source": "=cmd|' /C calc'!A0"})
    content = exports.participants_csv(campaign, None)
    table = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    assert len(table) == len(rows) + len(DANGEROUS)
    assert table[0]["email"] == "anna@example.org" and table[0]["utm_source"] == "newsletter"
    assert table[0]["created_at"] == at(0).isoformat()
    evil = table[len(rows) :]
    assert [r["name"] for r in evil] == ["'" + d for d in DANGEROUS]
    assert {r["utm_source"] for r in evil} == {"'=cmd|' /C calc'!A0"}
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in table for cell in r.values()
    )


def test_the_ledger_csv_lists_the_campaigns_lines_neutralised(tree) -> None:
    campaign, rows = tree
    rule = RewardRule(
        campaign_id=campaign.id, event="purchase", level=1, reward="points", amount=50
    )
    event = Event(workspace_id=campaign.workspace_id, campaign_id=campaign.id,
                  customer_id=rows["ben"].customer_id, participation_id=rows["ben"].id,
                  kind="purchase", occurred_at=at(100))  # fmt: skip
    db.session.add_all([rule, event])
    db.session.flush()
    db.session.add(LedgerEntry(participation_id=rows["anna"].id, source_event_id=event.id,
                               rule_id=rule.id, level=1, reward="points", amount=50,
                               reason="=2+5"))  # fmt: skip
    db.session.commit()
    table = list(csv.DictReader(io.StringIO(exports.ledger_csv(campaign, None).decode())))
    assert len(table) == 1
    line = table[0]
    assert (line["email"], line["amount"], line["source_event"], line["reason"]) == (
        "anna@example.org", "50", "purchase", "'=2+5")  # fmt: skip
    assert line["customer_id"] == str(rows["anna"].customer_id)
