"""A shop's page on another origin embeds the join widget: the script loads under its
integrity hash, the frame joins without any of the service's cookies, grows to its content,
and the page hears referral:joined; the shop's ?ref= and utm_* reach the sign-up. A page the
campaign does not allow cannot show the widget at all. A marketer lists the allowed sites
(a wrong one comes back named) and copies the snippet."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral import widget
from referral.extensions import db
from referral.models import Participation
from referral.models.base import utcnow
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.e2e.conftest import VIEWPORTS, LiveServer, SignIn, assert_clean, page_width
from tests.factories import Factory

pytestmark = pytest.mark.e2e

SHOP_SITE = "http://localhost:8000"

# The shop's own page: the snippet, and a listener that keeps what the widget tells it.
SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bike shop</title>
<link rel="icon" href="data:,"></head>
<body>
<h1>Bike shop</h1>
<script>
  window.heard = [];
  document.addEventListener("referral:joined", function (e) {{
    window.heard.push({{type: e.type, campaign: e.detail.campaign, on: e.target.id}});
  }});
</script>
<div id="signup" data-referral-widget="join" data-campaign="{slug}"></div>
<script src="{service}/w/v1.js" integrity="{integrity}" crossorigin="anonymous" async></script>
</body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@dataclass
class Shop:
    """A plain static site on http://localhost:<port>, another origin than the service."""

    origin: str
    root: Path

    def page(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, encoding="utf-8")
        return f"{self.origin}/{name}"


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield Shop(f"http://localhost:{server.server_port}", tmp_path)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _shop_page(shop: Shop, live_server: LiveServer, slug: str) -> str:
    html = SHOP_PAGE.format(slug=slug, service=live_server.url, integrity=widget.integrity())
    return shop.page("signup.html", html)


def test_a_shop_on_another_origin_embeds_the_join_widget_and_hears_the_sign_up(
    live_server: LiveServer, shop: Shop, page: Any, page_errors: list[str], factory: Factory
) -> None:
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    live_server.app.config["JOIN_MIN_SECONDS"] = 0
    campaign = factory.campaign(
        status="live", slug="bike-club", name="Bike club", embed_origins=[shop.origin]
    )
    advocate = join_campaign(
        campaign, JoinRequest(email="ada@example.com", name="Ada", confirmed=True), Visitor()
    ).participation
    db.session.commit()
    code = advocate.referral_code
    address = _shop_page(shop, live_server, "bike-club")

    page.goto(f"{address}?ref={code}&utm_source=newsletter&utm_campaign=spring&other=x")
    frame_element = page.locator("#signup iframe")
    expect(frame_element).to_have_attribute(
        "sandbox", "allow-scripts allow-forms allow-same-origin allow-popups"
    )
    source = frame_element.get_attribute("src") or ""
    assert source.startswith(f"{live_server.url}/embed/bike-club/join?")
    assert f"ref={code}" in source and "utm_source=newsletter" in source
    assert "other=" not in source  # only ref, ch and utm_* are passed on

    frame = page.frame_locator("#signup iframe")
    expect(frame.locator("h1")).to_have_text("Bike club")
    # The frame has told the page its height: no longer the script's first guess of 320px.
    page.wait_for_function(
        "() => document.querySelector('#signup iframe').style.height !== '320px'"
    )
    before = frame_element.evaluate("f => f.getBoundingClientRect().height")
    content = frame.locator("#embed").evaluate("e => e.getBoundingClientRect().height")
    assert abs(before - content) <= 2

    frame.get_by_label("Your e-mail address").fill("grace@example.com")
    frame.get_by_label("Your first name (optional)").fill("Grace")
    frame.locator("#consent").check()
    frame.get_by_role("button", name="Join").click()

    expect(frame.locator("h1")).to_have_text("Check your inbox")
    link = frame.locator("#share-link")
    expect(link).to_have_value(re.compile(rf"^{live_server.url}/r/[A-Za-z0-9]+$"))
    page.wait_for_function("() => window.heard.length === 1")
    heard = page.evaluate("() => window.heard")
    assert heard == [{"type": "referral:joined", "campaign": "bike-club", "on": "signup"}]
    page.wait_for_function(
        "h => Math.abs(document.querySelector('#signup iframe').getBoundingClientRect().height"
        " - h) > 2",
        arg=before,
    )
    after = frame_element.evaluate("f => f.getBoundingClientRect().height")
    content = frame.locator("#embed").evaluate("e => e.getBoundingClientRect().height")
    assert abs(after - content) <= 2

    db.session.rollback()  # see the server thread's commits
    friend = db.session.scalar(
        select(Participation).where(
            Participation.campaign_id == campaign.id, Participation.referrer_id == advocate.id
        )
    )
    assert friend is not None and friend.status == "pending"
    assert friend.utm == {"utm_source": "newsletter", "utm_campaign": "spring"}
    assert link.input_value().endswith(f"/r/{friend.referral_code}")
    assert_clean(page_errors)


def test_a_page_the_campaign_does_not_allow_cannot_show_the_widget(
    live_server: LiveServer, shop: Shop, page: Any, factory: Factory
) -> None:
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    factory.campaign(
        status="live", slug="elsewhere", name="Elsewhere", embed_origins=["https://other.example"]
    )
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.goto(_shop_page(shop, live_server, "elsewhere"))
    frame_element = page.locator("#signup iframe")
    expect(frame_element).to_have_count(1)
    page.wait_for_timeout(1000)
    frame = frame_element.element_handle().content_frame()
    # The browser refused to show the service's answer inside this page (frame-ancestors):
    # the frame holds the browser's error page, not the widget.
    assert frame is not None and not frame.url.startswith(live_server.url), frame.url
    assert frame.get_by_text("Elsewhere").count() == 0
    assert any("frame-ancestors" in text for text in blocked), blocked
    assert page.evaluate("() => window.heard.length") == 0


def test_the_demo_page_shows_the_four_widgets_of_the_demo_campaign(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory
) -> None:
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    live_server.app.config["REFERRAL_ENV"] = "development"
    demo = factory.workspace(slug="demo", name="Demo coffee")
    campaign = factory.campaign(
        demo, status="live", slug="demo-coffee", name="Coffee friends", embed_origins=[SHOP_SITE]
    )
    advocate = factory.participation(campaign, status="confirmed", confirmed_at=utcnow())
    factory.participation(campaign, referrer=advocate, status="confirmed", confirmed_at=utcnow())

    page.goto(live_server("/embed/demo"))
    expect(page.locator("[data-referral-widget] iframe")).to_have_count(4)
    leaderboard = page.frame_locator("[data-referral-widget=leaderboard] iframe")
    expect(leaderboard.locator("ol.leaderboard li")).to_have_count(1)
    me = page.frame_locator("[data-referral-widget=me] iframe")
    expect(me.locator(".stat-confirmed")).to_have_text("1")
    share = page.frame_locator("[data-referral-widget=share] iframe")
    expect(share.locator("#share-link")).to_have_value(
        f"{live_server.url}/r/{advocate.referral_code}"
    )
    join = page.frame_locator("[data-referral-widget=join] iframe")
    expect(join.get_by_role("button", name="Join")).to_be_visible()
    assert_clean(page_errors)


@pytest.mark.parametrize("page", ["phone", "desktop"], indirect=True)
def test_a_marketer_allows_a_shop_and_copies_the_snippet(
    request: pytest.FixtureRequest,
    live_server: LiveServer,
    page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    viewport = request.node.callspec.params["page"]
    marketer, workspace = factory.marketer(role="editor")
    campaign = factory.campaign(workspace, status="live", slug="shop-club", name="Shop club")
    sign_in(page, marketer.email)
    page.goto(live_server(f"/admin/campaigns/{campaign.id}"))
    page.get_by_test_id("embed-link").click()
    expect(page.locator("h1")).to_have_text("Widgets on your site")

    origins = page.get_by_label("Sites allowed to show the widgets")
    origins.fill("https://shop.example.com\nshop.example.com/page")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("“shop.example.com/page” is not a site")
    expect(origins).to_have_value("https://shop.example.com\nshop.example.com/page")
    origins.fill("HTTPS://Shop.example.com/\nhttp://localhost:8000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(origins).to_have_value("https://shop.example.com\nhttp://localhost:8000")

    snippet = page.get_by_test_id("snippet-join")
    expect(snippet).to_contain_text(f'integrity="{widget.integrity()}"')
    expect(snippet).to_contain_text('data-campaign="shop-club"')
    width = page_width(page)
    assert width <= VIEWPORTS[viewport]["width"], f"the page scrolls sideways ({width}px)"
    assert_clean([e for e in page_errors if "status of 422" not in e])
