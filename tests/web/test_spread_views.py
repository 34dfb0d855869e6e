"""The dashboard, the spread view, its JSON and search, the exports and the vendored
libraries, through HTTP: who may see them, what they answer, and what they never leak."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from referral.extensions import db
from referral.models import AuditEntry, Campaign, Participation, Workspace
from referral.models.base import utcnow
from referral.services import counters, spread
from tests.conftest import Browser
from tests.factories import Factory
from tests.scenarios import grow

CAMPAIGN_ROUTES = (
    "/admin/campaigns/{c}/dashboard",
    "/admin/campaigns/{c}/dashboard/funnel.svg",
    "/admin/campaigns/{c}/dashboard/growth.svg",
    "/admin/campaigns/{c}/dashboard/generations.svg",
    "/admin/campaigns/{c}/dashboard/channels.svg",
    "/admin/campaigns/{c}/dashboard/sources.svg",
    "/admin/campaigns/{c}/spread",
    "/admin/campaigns/{c}/spread.json",
    "/admin/campaigns/{c}/spread.json?root={p}",
    "/admin/campaigns/{c}/spread/find?q={code}",
    "/admin/campaigns/{c}/export/graphml",
    "/admin/campaigns/{c}/export/gexf",
    "/admin/campaigns/{c}/export/json",
    "/admin/campaigns/{c}/export/csv",
    "/admin/campaigns/{c}/export/participants",
    "/admin/campaigns/{c}/export/ledger",
)
CHARTS = ("funnel", "growth", "generations", "channels", "sources")


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Ids restart in every test's fresh database (see tests/services/test_spread_service)."""
    spread._CACHE.clear()


@pytest.fixture
def viewer(login_as: Any, factory: Factory) -> tuple[Campaign, list[Participation]]:
    """Signed in as a viewer (read only) of a workspace with a 13-person campaign."""
    _marketer, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live", slug="spring-friends")
    return campaign, grow(factory, campaign, 13)


def path_for(template: str, campaign: Campaign, rows: list[Participation]) -> str:
    return template.format(c=campaign.id, p=rows[1].id, code=rows[1].referral_code)


@pytest.mark.parametrize("template", CAMPAIGN_ROUTES)
def test_a_viewer_may_open_every_spread_page_and_export(
    browser: Browser, viewer: tuple[Campaign, list[Participation]], template: str
) -> None:
    campaign, rows = viewer
    response = browser.client.get(path_for(template, campaign, rows))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("template", CAMPAIGN_ROUTES)
def test_invariant_7_another_workspaces_campaign_answers_404_on_every_spread_route(
    browser: Browser, login_as: Any, factory: Factory, template: str
) -> None:
    """Can a marketer of workspace B open, chart, search or export campaign 1 of A?"""
    theirs = factory.campaign(factory.workspace(), status="live")
    rows = grow(factory, theirs, 4)
    login_as("owner")
    response = browser.client.get(path_for(template, theirs, rows))
    assert response.status_code == 404
    body = response.get_data(as_text=True).lower()
    assert "person.1@" not in body and "p***@e***.com" not in body
    exported = db.session.query(AuditEntry).filter(AuditEntry.action.startswith("export."))
    assert exported.count() == 0  # and nothing was exported


def test_a_root_of_another_campaign_answers_404(
    browser: Browser, viewer: tuple[Campaign, list[Participation]], factory: Factory
) -> None:
    campaign, _rows = viewer
    other = factory.participation(
        factory.campaign(db.session.get(Workspace, campaign.workspace_id))
    )
    for root in (str(other.id), "abc", "-1", "99999", "2147483648", "9" * 400, "１"):
        response = browser.client.get(f"/admin/campaigns/{campaign.id}/spread.json?root={root}")
        assert response.status_code == 404, root


def test_signed_out_visitors_are_sent_to_the_login(client: Any, factory: Factory) -> None:
    campaign = factory.campaign()
    for path in ("spread.json", "dashboard", "export/participants"):
        response = client.get(f"/admin/campaigns/{campaign.id}/{path}")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the dashboard -----------------------------------------------------------------------


def test_the_dashboard_shows_the_funnel_virality_and_top_advocates(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, rows = viewer
    html = browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="funnel-joins">13<', html)
    assert re.search(r'data-testid="k-factor">92%<', html)  # 12 of 13 confirmed were referred
    # Everyone joined today: nobody has had a week to invite friends, so no viral K yet.
    assert re.search(r'data-testid="viral-k">—<', html)
    assert "Shown once participants have had 7 days to invite friends." in html
    counts = re.search(r'data-testid="funnel-counts">(.*?)</p>', html, re.S)
    assert counts and "0 rejected" in counts.group(1) and "all 13 sign-ups" in counts.group(1)
    assert "The average number of referral steps" in html  # structural virality, explained
    assert "Of all confirmed participants, the share who came through" in html  # K-factor
    top = re.search(r'data-testid="top-subtree">(.*?)</ol>', html, re.S)
    assert top and f'href="/admin/customers/{rows[0].customer_id}"' in top.group(1)
    assert "13 people in their tree" in top.group(1)
    for chart in CHARTS:
        assert f'src="/admin/campaigns/{campaign.id}/dashboard/{chart}.svg"' in html
    assert "<script" not in html.split("</footer>")[0].split("<main")[1]


def test_each_chart_is_an_svg_image_that_runs_nothing(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    """What each chart draws: tests/services/test_spread_service.py."""
    campaign, _rows = viewer
    for chart in CHARTS:
        response = browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard/{chart}.svg")
        assert response.status_code == 200, chart
        assert response.mimetype == "image/svg+xml"
        body = response.get_data(as_text=True)
        assert body.startswith("<svg") and "<script" not in body.lower()
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy


def test_an_unknown_chart_is_not_found(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, _rows = viewer
    assert browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard/x.svg").status_code == 404


def test_an_empty_campaign_has_a_dashboard_too(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _marketer, workspace = login_as("viewer")
    campaign = factory.campaign(workspace)
    assert browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard").status_code == 200
    for chart in CHARTS:
        response = browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard/{chart}.svg")
        assert response.status_code == 200


# --- the spread view and its data ----------------------------------------------------------


def test_the_spread_page_loads_its_scripts_from_this_server_and_none_inline(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, _rows = viewer
    html = browser.client.get(f"/admin/campaigns/{campaign.id}/spread").get_data(as_text=True)
    sources = re.findall(r"<script([^>]*)>", html)
    assert sources and all('src="/' in attributes for attributes in sources)
    assert re.search(r'src="/admin/vendor/sigma\.min\.js\?v=3\.[\d.]+"', html)
    assert 'data-worker-url="/static/js/spread-worker.js"' in html
    assert " style=" not in html and " onclick=" not in html
    assert 'data-testid="collapsed-notice"' not in html


def test_spread_json_holds_every_node_with_masked_labels_only(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, rows = viewer
    response = browser.client.get(f"/admin/campaigns/{campaign.id}/spread.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    text = response.get_data(as_text=True)
    assert "example.com" not in text.lower() and "person." not in text.lower()
    body = json.loads(text)
    assert (body["size"], body["shown"], body["collapsed"], body["root"]) == (13, 13, False, None)
    first = body["nodes"][0]
    assert set(first) == {"id", "referrer_id", "depth", "status", "channel", "created_at",
                          "label", "subtree", "customer_id", "direct"}  # fmt: skip
    assert (first["id"], first["label"], first["customer_id"]) == (
        rows[0].id, "P***@E***.com", rows[0].customer_id)  # fmt: skip
    assert (first["subtree"], first["direct"], first["depth"]) == (13, 3, 0)
    assert len(body["edges"]) == 12


def test_above_the_threshold_the_graph_is_collapsed_and_the_page_says_so(
    app: Flask, browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, rows = viewer
    app.config["REFERRAL_SPREAD_VIEW_MAX_NODES"] = 6
    body = browser.client.get(f"/admin/campaigns/{campaign.id}/spread.json").get_json()
    assert body["collapsed"] is True and len(body["nodes"]) <= 6
    groups = [n for n in body["nodes"] if n.get("aggregate")]
    assert groups and body["shown"] + sum(g["count"] for g in groups) == 13
    html = browser.client.get(f"/admin/campaigns/{campaign.id}/spread").get_data(as_text=True)
    assert 'data-testid="collapsed-notice"' in html and "13 participants" in html
    # A group opens: the subtree of the group's parent, with depths of the whole graph.
    parent = groups[0]["referrer_id"]
    opened = browser.client.get(f"/admin/campaigns/{campaign.id}/spread.json?root={parent}")
    nodes = opened.get_json()["nodes"]
    assert nodes[0]["id"] == parent
    depths = {r.id: r.depth for r in rows}
    assert all(n["depth"] == depths[n["id"]] for n in nodes if not n.get("aggregate"))
    assert len(nodes) > 1


def test_search_answers_the_node_and_its_ancestors_or_404(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, rows = viewer
    url = f"/admin/campaigns/{campaign.id}/spread/find"
    found = browser.client.get(url, query_string={"q": rows[5].referral_code}).get_json()
    assert found == {"id": rows[5].id, "ancestors": [rows[0].id, rows[1].id]}
    by_address = browser.client.get(url, query_string={"q": "person.12@"}).get_json()
    assert by_address["id"] == rows[12].id
    missing = browser.client.get(url, query_string={"q": "nobody@nowhere"})
    assert missing.status_code == 200 and missing.get_json()["id"] is None
    assert "nobody@nowhere" in missing.get_json()["error"]


# --- exports ---------------------------------------------------------------------------------


EXPORTS = {
    "graphml": ("spring-friends-spread.graphml", "application/graphml+xml"),
    "gexf": ("spring-friends-spread.gexf", "application/gexf+xml"),
    "json": ("spring-friends-spread.json", "application/json"),
    "csv": ("spring-friends-spread.csv", "text/csv"),
    "participants": ("spring-friends-participants.csv", "text/csv"),
    "ledger": ("spring-friends-ledger.csv", "text/csv"),
}


def test_every_export_downloads_with_its_file_name_and_is_logged_and_no_other_exists(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    """What each export holds: tests/services/test_spread_view_and_exports.py."""
    campaign, _rows = viewer
    for n, (kind, (filename, mimetype)) in enumerate(EXPORTS.items(), start=1):
        response = browser.client.get(f"/admin/campaigns/{campaign.id}/export/{kind}")
        assert response.status_code == 200, kind
        assert response.mimetype == mimetype
        assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
        db.session.expire_all()
        audits = db.session.query(AuditEntry).filter(AuditEntry.action != "auth.login").all()
        assert len(audits) == n
        assert audits[-1].subject == f"campaign:{campaign.id}"
        assert audits[-1].action.startswith("export.")
    assert browser.client.get(f"/admin/campaigns/{campaign.id}/export/xlsx").status_code == 404


# --- the vendored browser libraries --------------------------------------------------------


def test_only_the_whitelisted_libraries_are_served_with_a_long_cache(
    browser: Browser, login_as: Any
) -> None:
    login_as("viewer")
    for name in ("sigma.min.js", "graphology.umd.min.js", "graphology-library.min.js"):
        response = browser.client.get(f"/admin/vendor/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == "text/javascript"
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert len(response.data) > 10_000
    for name in ("package.json", "..%2Fpackage.json", "sigma.js", "swagger-ui.css"):
        assert browser.client.get(f"/admin/vendor/{name}").status_code == 404, name


def test_missing_node_modules_answer_404_with_how_to_install_them(
    app: Flask, browser: Browser, login_as: Any, tmp_path: Any
) -> None:
    login_as("viewer")
    app.config["NODE_MODULES_DIR"] = str(tmp_path / "nowhere")
    response = browser.client.get("/admin/vendor/sigma.min.js")
    assert response.status_code == 404
    assert "npm ci --ignore-scripts" in response.get_data(as_text=True)


def test_the_dashboard_shows_viral_k_over_mature_participants_and_explains_its_counts(
    browser: Browser, viewer: tuple[Campaign, list[Participation]]
) -> None:
    campaign, rows = viewer
    week_ago = utcnow() - timedelta(days=8)
    for row in rows:  # the whole tree joined and confirmed over a week ago
        row.created_at = row.confirmed_at = week_ago
    rows[-1].status = "rejected"
    rows[-2].status = "flagged"
    db.session.commit()
    counters.reconcile(campaign.id)  # statuses set by hand, not by a review: recounted
    html = browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard").get_data(as_text=True)
    viral = re.search(r'data-testid="viral-k">([^<]*)<', html)
    basis = re.search(r'data-testid="viral-k-basis">(.*?)</span>', html, re.S)
    assert viral and basis
    confirmed = [r for r in rows if r.status == "confirmed"]
    referred = [r for r in confirmed if r.referrer_id in {c.id for c in confirmed}]
    assert viral.group(1) == f"{len(referred) / len(confirmed):.2f}"
    assert f"over the {len(confirmed)} participants confirmed at least 7 days ago" in basis.group(1)
    counts = re.search(r'data-testid="funnel-counts">(.*?)</p>', html, re.S)
    assert counts and "1 rejected" in counts.group(1) and "all 13 sign-ups" in counts.group(1)
    assert "1 held for review" in counts.group(1)
