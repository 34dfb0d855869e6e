"""The back office's spread view and exports, asked of the services: the graph cut to a
threshold and opened a group at a time, the search, and what the exports hold. The pages,
routes and file downloads are in tests/web/test_spread_views.py."""

from __future__ import annotations

import csv
import io

import networkx as nx
import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Campaign, Participation, Workspace
from referral.services import spread
from referral.services.exports import export_graph, participants_csv
from referral.services.spread_view import find_node, spread_view
from tests.factories import Factory
from tests.scenarios import grow


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Ids restart in every test's fresh database (see tests/services/test_spread_service)."""
    spread._CACHE.clear()


@pytest.fixture
def campaign(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="spring-friends")


@pytest.fixture
def rows(factory: Factory, campaign: Campaign) -> list[Participation]:
    return grow(factory, campaign, 13)


def test_the_view_holds_every_node_with_masked_labels_only(
    campaign: Campaign, rows: list[Participation]
) -> None:
    body = spread_view(campaign, 500)
    assert (body["size"], body["shown"], body["collapsed"], body["root"]) == (13, 13, False, None)
    first = body["nodes"][0]
    assert (first["id"], first["label"], first["customer_id"]) == (
        rows[0].id,
        "P***@E***.com",
        rows[0].customer_id,
    )
    assert (first["subtree"], first["direct"], first["depth"]) == (13, 3, 0)
    assert len(body["edges"]) == 12
    assert "example.com" not in str(body).lower()


def test_above_the_threshold_the_graph_is_collapsed_and_a_group_opens_with_its_depths(
    campaign: Campaign, rows: list[Participation]
) -> None:
    body = spread_view(campaign, 6)
    assert body["collapsed"] is True and len(body["nodes"]) <= 6
    groups = [n for n in body["nodes"] if n.get("aggregate")]
    assert groups and body["shown"] + sum(g["count"] for g in groups) == 13
    parent = groups[0]["referrer_id"]
    nodes = spread_view(campaign, 6, root=parent)["nodes"]
    assert nodes[0]["id"] == parent
    depths = {r.id: r.depth for r in rows}
    assert all(n["depth"] == depths[n["id"]] for n in nodes if not n.get("aggregate"))
    assert len(nodes) > 1


def test_search_finds_the_node_by_code_or_address_with_its_ancestors(
    campaign: Campaign, rows: list[Participation]
) -> None:
    assert find_node(campaign, rows[5].referral_code) == {
        "id": rows[5].id,
        "ancestors": [rows[0].id, rows[1].id],
    }
    found = find_node(campaign, "person.12@")
    assert found is not None and found["id"] == rows[12].id
    assert find_node(campaign, "nobody@nowhere") is None
    assert find_node(campaign, "\x00") is None


def test_graph_exports_parse_back_and_are_logged(
    campaign: Campaign, rows: list[Participation]
) -> None:
    for fmt, read in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        content, _mimetype, extension = export_graph(campaign, fmt, None)
        assert extension == fmt
        graph = read(io.BytesIO(content))
        assert graph.number_of_nodes() == 13 and graph.number_of_edges() == 12
        assert graph.has_edge(str(rows[0].id), str(rows[1].id))
    content, _mimetype, _extension = export_graph(campaign, "csv", None)
    table = list(csv.DictReader(io.StringIO(content.decode())))
    assert [int(r["id"]) for r in table] == [r.id for r in rows]
    logged = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.startswith("export."))
    ).all()
    assert len(logged) == 3


def test_participant_exports_neutralise_formulas(
    factory: Factory, campaign: Campaign, rows: list[Participation]
) -> None:
    workspace = db.session.get(Workspace, campaign.workspace_id)
    customer = factory.customer(workspace, "-1+1@example.com")
    customer.name = '=HYPERLINK("http://evil.example","click")'
    factory.participation(campaign, customer=customer, utm={"utm_source": "@SUM(1)"})
    text = participants_csv(campaign, None).decode("utf-8-sig")
    last = list(csv.DictReader(io.StringIO(text)))[-1]
    assert last["email"] == "'-1+1@example.com"
    assert last["name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert last["utm_source"] == "'@SUM(1)"
