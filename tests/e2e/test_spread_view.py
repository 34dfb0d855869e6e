"""The spread graph in a real browser: sigma.js draws it with WebGL, search finds a person,
a click opens their card, the slider replays the spread; no console error, no CSP report."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.domain.codes import new_code
from referral.extensions import db
from referral.models import Campaign, Customer, Participation, Workspace
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CHANNELS = ("link", "qr", "whatsapp", "email")


def demo_like_campaign(workspace: Workspace, size: int = 300, seed: int = 7) -> list[Participation]:
    """A cascade like the demo's: preferential attachment over three weeks, a few roots,
    most people confirmed; one insert per participant (the referrer must exist first)."""
    rng = random.Random(seed)
    campaign = Campaign(
        workspace_id=workspace.id,
        slug="word-of-mouth",
        name="Word of mouth",
        kind="referral",
        status="live",
        locales=["en"],
    )
    db.session.add(campaign)
    db.session.flush()
    rows: list[Participation] = []
    tickets: list[int] = []
    for n in range(size):
        customer = Customer(
            workspace_id=workspace.id,
            email=f"friend{n}@example.org",
            email_display=f"Friend{n}@Example.org",
        )
        db.session.add(customer)
        db.session.flush()
        parent_index = rng.choice(tickets) if tickets and rng.random() > 0.05 else None
        parent = rows[parent_index] if parent_index is not None else None
        row = Participation(
            campaign_id=campaign.id,
            customer_id=customer.id,
            referrer_id=parent.id if parent else None,
            depth=parent.depth + 1 if parent else 0,
            path=f"{parent.path}{parent.id}/" if parent else "/",
            referral_code=new_code(),
            channel=rng.choice(CHANNELS) if parent else "direct",
            status="confirmed" if rng.random() < 0.8 else "pending",
            created_at=START + timedelta(hours=n * 1.7),
        )
        db.session.add(row)
        db.session.flush()
        rows.append(row)
        tickets += [n] if parent_index is None else [n, parent_index]
    db.session.commit()
    return rows


def eventually(page: Any, script: str, seconds: float = 10.0) -> None:
    """Poll ``script`` until it is truthy (``page.wait_for_function`` would evaluate the
    string inside the page, which the strict CSP refuses)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def test_the_spread_view_draws_finds_and_opens_a_card(
    live_server: LiveServer,
    desktop_page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    marketer, workspace = factory.marketer(role="viewer")
    rows = demo_like_campaign(workspace)
    campaign_id = rows[0].campaign_id
    page = desktop_page
    sign_in(page, marketer.email)

    page.goto(live_server(f"/admin/campaigns/{campaign_id}/spread"))
    expect(page.locator("#spread")).to_have_attribute("data-ready", "true")
    # sigma's WebGL layers are in the page and the graph holds every participant.
    expect(page.locator("#spread-canvas canvas.sigma-nodes")).to_have_count(1)
    assert page.evaluate("window.spreadView.graph.order") == len(rows)
    assert page.evaluate("window.spreadView.graph.size") == sum(
        1 for r in rows if r.referrer_id is not None
    )
    expect(page.locator("#spread-status")).to_contain_text("300 participants drawn")
    # No full address anywhere in the page's graph.
    labels = page.evaluate("window.spreadView.graph.mapNodes((k, a) => a.label)")
    assert all("***@" in label for label in labels)

    # Search by referral code: the camera centres on the node and its card opens.
    target = rows[len(rows) // 2]
    page.locator("#spread-q").fill(target.referral_code)
    page.get_by_role("button", name="Find").click()
    card = page.locator("#spread-card")
    expect(card).to_be_visible()
    expect(page.locator("#spread-card-label")).to_have_text("F***@E***.org")
    assert page.evaluate("window.spreadView.selected") == str(target.id)
    expect(card.locator("[data-field=depth]")).to_have_text(str(target.depth))
    expect(page.locator("#spread-card-link")).to_have_attribute(
        "href", f"/admin/customers/{target.customer_id}"
    )
    page.locator("#spread-card-close").click()
    expect(card).to_be_hidden()

    # A real click on a node, at its place on the screen, opens its card too.
    root = rows[0]
    eventually(page, "!window.spreadView.renderer.getCamera().isAnimated()")  # the search's
    page.evaluate("window.spreadView.renderer.getCamera().setState({x: 0.5, y: 0.5, ratio: 1})")
    page.wait_for_timeout(300)
    point = page.evaluate(
        f"""(() => {{
          const r = window.spreadView.renderer;
          return r.framedGraphToViewport(r.getNodeDisplayData("{root.id}"));
        }})()"""
    )
    box = page.locator("#spread-canvas").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    expect(card).to_be_visible()
    assert page.evaluate("window.spreadView.selected") == str(root.id)

    # The replay slider hides whoever joined after the chosen day.
    page.evaluate("window.spreadView.setDay(0)")
    hidden = page.evaluate(
        """(() => {
          const v = window.spreadView;
          return v.graph.filterNodes((k, a) => v.cutoff !== null && a.t > v.cutoff).length;
        })()"""
    )
    assert 0 < hidden < len(rows)

    # ForceAtlas2 runs in the web worker and moves the nodes.
    before = page.evaluate(f'window.spreadView.graph.getNodeAttribute("{rows[-1].id}", "x")')
    page.locator("#spread-layout").select_option("force")
    expect(page.locator("#spread-status")).to_contain_text("round", timeout=15_000)
    eventually(page, f'window.spreadView.graph.getNodeAttribute("{rows[-1].id}", "x") !== {before}')
    page.locator("#spread-layout").select_option("radial")

    assert_clean(page_errors)


def test_a_collapsed_graph_opens_its_groups_on_click_and_on_search(
    live_server: LiveServer,
    desktop_page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    live_server.app.config["REFERRAL_SPREAD_VIEW_MAX_NODES"] = 60
    marketer, workspace = factory.marketer(role="viewer")
    rows = demo_like_campaign(workspace)
    page = desktop_page
    sign_in(page, marketer.email)
    page.goto(live_server(f"/admin/campaigns/{rows[0].campaign_id}/spread"))
    expect(page.locator("#spread")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("collapsed-notice")).to_contain_text("300 participants")
    expect(page.locator("#spread-status")).to_contain_text("of 300 participants drawn")
    order = page.evaluate("window.spreadView.graph.order")
    assert order <= 60

    # Clicking a group (here through the API: it is a WebGL dot) replaces it by its people.
    group = page.evaluate("window.spreadView.graph.filterNodes((k, a) => a.aggregate)[0]")
    page.evaluate(f'window.spreadView.select("{group}")')
    expect(page.locator("#spread-status")).to_contain_text("participants drawn")
    eventually(page, f'!window.spreadView.graph.hasNode("{group}")')
    assert page.evaluate("window.spreadView.graph.order") > order

    # Searching for someone deep inside a group opens the groups on the way.
    deepest = max(rows, key=lambda r: (r.depth, r.id))
    assert not page.evaluate(f'window.spreadView.graph.hasNode("{deepest.id}")')
    page.locator("#spread-q").fill(deepest.referral_code)
    page.locator("#spread-q").press("Enter")
    expect(page.locator("#spread-card")).to_be_visible()
    assert page.evaluate("window.spreadView.selected") == str(deepest.id)
    assert page.evaluate(f'window.spreadView.graph.getNodeAttribute("{deepest.id}", "depth")') == (
        deepest.depth
    )
    assert_clean(page_errors)


def test_the_dashboard_shows_its_charts_as_images_without_csp_reports(
    live_server: LiveServer,
    desktop_page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    marketer, workspace = factory.marketer(role="viewer")
    rows = demo_like_campaign(workspace, size=120)
    page = desktop_page
    sign_in(page, marketer.email)
    page.goto(live_server(f"/admin/campaigns/{rows[0].campaign_id}"))
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.get_by_test_id("funnel-joins")).to_have_text("120")
    charts = page.locator(".chart img")
    expect(charts).to_have_count(4)  # no utm_source in this campaign: no sources chart
    for i in range(4):
        charts.nth(i).scroll_into_view_if_needed()
        eventually(page, f"document.querySelectorAll('.chart img')[{i}].naturalWidth > 0")
    page.get_by_role("link", name="Spread graph").first.click()
    expect(page.locator("#spread")).to_have_attribute("data-ready", "true")
    assert_clean(page_errors)
