"""The widgets other sites embed: /w/v1.js, /embed/<slug>/<kind> and who may frame them,
the join form inside a frame without any cookie, the tokens of the advocate's own widget, and
the admin page and API that set the allowed sites."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import widget
from referral.extensions import db
from referral.models import Campaign, Click, Participation
from referral.public.join import form_stamp
from referral.services import embeds
from referral.services.advocates import advocate_token
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.conftest import Browser
from tests.factories import Factory
from tests.web.conftest import Api, assert_problem, count, text_of

SHOP = "http://shop.example"
STAMP = re.compile(r'name="started" type="hidden" value="([^"]+)"')


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="bikes", embed_origins=[SHOP])


@pytest.fixture
def cookieless(app: Flask) -> FlaskClient:
    """A browser inside a frame on another site: this service's cookies never come back."""
    app.config["JOIN_MIN_SECONDS"] = 0
    return app.test_client(use_cookies=False)


def _frame_ancestors(response: Any) -> str:
    policy = response.headers.get("Content-Security-Policy", "")
    found = re.search(r"frame-ancestors ([^;]+)", policy)
    assert found, policy
    return found.group(1).strip()


def _advocate(campaign: Campaign, email: str = "ada@example.com") -> Participation:
    request = JoinRequest(email=email, name="Ada Lovelace", confirmed=True)
    participation = join_campaign(campaign, request, Visitor()).participation
    db.session.commit()
    return participation


# --- who may frame what -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["join", "share", "me", "leaderboard"])
def test_a_widget_may_be_framed_by_the_campaigns_sites_and_nothing_else_may(
    client: FlaskClient, live: Campaign, kind: str
) -> None:
    response = client.get(f"/embed/bikes/{kind}")
    assert response.status_code in (200, 401)  # me without a token: says why, in the frame
    assert _frame_ancestors(response) == f"'self' {SHOP}"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_every_other_page_stays_unframeable(
    client: FlaskClient, browser: Browser, login_as: Any, factory: Factory, live: Campaign
) -> None:
    """Only /embed/<slug>/<kind> relaxes frame-ancestors: the landing page, leaderboard,
    advocate page, admin, API, the script and the demo page of the same campaign do not."""
    advocate = _advocate(live)
    _, workspace = login_as("owner")
    _, secret = factory.api_key(workspace)
    paths = [
        "/",
        "/c/bikes",
        "/c/bikes/leaderboard",
        f"/me/{advocate_token(advocate)}",
        "/w/v1.js",
        "/embed/demo",
        "/embed/bikes",
        "/login",
    ]
    for path in paths:
        response = client.get(path)
        assert _frame_ancestors(response) == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path
    admin = browser.client.get("/admin/campaigns")
    assert _frame_ancestors(admin) == "'none'" and admin.headers["X-Frame-Options"] == "DENY"
    api = client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert _frame_ancestors(api) == "'none'" and api.headers["X-Frame-Options"] == "DENY"


def test_a_campaign_without_sites_lets_only_the_service_frame_its_widgets(
    client: FlaskClient, factory: Factory
) -> None:
    factory.campaign(status="live", slug="private")
    response = client.get("/embed/private/join")
    assert response.status_code == 200
    assert _frame_ancestors(response) == "'self'"


def test_an_unknown_widget_or_a_draft_is_404_framed_by_the_service_only(
    client: FlaskClient, factory: Factory, live: Campaign
) -> None:
    factory.campaign(status="draft", slug="secret", embed_origins=[SHOP])
    for path in ("/embed/bikes/unknown", "/embed/nothing/join", "/embed/secret/join"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert _frame_ancestors(response) == "'self'", path


def test_the_widget_tells_only_an_allowed_page_what_happens_in_it(
    client: FlaskClient, live: Campaign
) -> None:
    def parent(origin: str) -> str:
        page = client.get(f"/embed/bikes/leaderboard?origin={origin}").get_data(as_text=True)
        found = re.search(r'data-parent-origin="([^"]*)"', page)
        assert found
        return found.group(1)

    assert parent(SHOP) == SHOP
    assert parent(SHOP + "/") == SHOP
    assert parent("http://localhost") == "http://localhost"  # this service's own page
    assert parent("https://evil.example") == ""
    assert parent("*") == ""


# --- the script ---------------------------------------------------------------------------


def test_the_script_is_cached_a_year_readable_by_any_site_and_matches_its_hash(
    client: FlaskClient,
) -> None:
    response = client.get("/w/v1.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert widget.integrity(response.data) == widget.integrity()
    again = client.get("/w/v1.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


# --- joining inside the frame ---------------------------------------------------------------


def _join_page(client: FlaskClient, query: str = "") -> tuple[str, str]:
    response = client.get(f"/embed/bikes/join?origin={SHOP}{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = STAMP.search(page)
    assert found, page
    assert 'name="csrf_token"' not in page
    return page, found.group(1)


def _sent(client: FlaskClient, stamp: str, query: str = "", **fields: str) -> Any:
    data = {"email": "grace@example.com", "name": "Grace", "consent": "y", "started": stamp}
    return client.post(f"/embed/bikes/join?origin={SHOP}{query}", data={**data, **fields})


def test_a_person_joins_inside_the_frame_without_cookies_and_sees_their_link(
    cookieless: FlaskClient, live: Campaign
) -> None:
    _, stamp = _join_page(cookieless)
    response = _sent(cookieless, stamp)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = text_of(response)
    assert "data-joined" in page and f'data-parent-origin="{SHOP}"' in page
    joined = db.session.scalar(select(Participation).where(Participation.campaign_id == live.id))
    assert joined is not None and joined.status == "pending"
    assert f"/r/{joined.referral_code}" in page
    assert _frame_ancestors(response) == f"'self' {SHOP}"


def test_the_ref_and_utm_of_the_site_reach_the_sign_up(
    cookieless: FlaskClient, live: Campaign
) -> None:
    advocate = _advocate(live)
    query = f"&ref={advocate.referral_code}&ch=whatsapp&utm_source=news&utm_campaign=spring"
    _, stamp = _join_page(cookieless, query)
    assert count(Click, Click.participation_id == advocate.id) == 1
    assert _sent(cookieless, stamp).status_code == 200
    friend = db.session.scalar(
        select(Participation).where(Participation.referrer_id == advocate.id)
    )
    assert friend is not None
    assert friend.utm == {"utm_source": "news", "utm_campaign": "spring"}
    assert friend.channel == "whatsapp"


def test_a_known_address_is_mailed_its_link_and_not_shown_it(
    cookieless: FlaskClient, live: Campaign
) -> None:
    advocate = _advocate(live, "grace@example.com")
    _, stamp = _join_page(cookieless)
    response = _sent(cookieless, stamp)
    assert response.status_code == 200
    page = text_of(response)
    assert "Check your inbox" in page and advocate.referral_code not in page
    assert count(Participation, Participation.campaign_id == live.id) == 1


def test_a_form_without_the_widgets_stamp_is_refused_and_stores_nothing(
    cookieless: FlaskClient, live: Campaign
) -> None:
    for stamp in ("", "forged", form_stamp(live.id, 0)):  # the landing page's is not enough
        response = _sent(cookieless, stamp)
        assert response.status_code == 422
        assert "The form expired" in text_of(response)
    assert count(Participation, Participation.campaign_id == live.id) == 0


def test_the_widget_form_keeps_the_time_guard_the_honeypot_and_field_errors(
    app: Flask, cookieless: FlaskClient, live: Campaign
) -> None:
    _, stamp = _join_page(cookieless)
    assert _sent(cookieless, stamp, website="http://spam.example").status_code == 200
    assert _sent(cookieless, stamp, consent="").status_code == 422
    assert _sent(cookieless, stamp, email="not an address").status_code == 422
    app.config["JOIN_MIN_SECONDS"] = 60
    response = _sent(cookieless, stamp)
    assert response.status_code == 422 and "very quick" in text_of(response)
    assert count(Participation, Participation.campaign_id == live.id) == 0


def test_a_closed_campaigns_join_widget_says_so(client: FlaskClient, factory: Factory) -> None:
    factory.campaign(status="closed", slug="over", embed_origins=[SHOP])
    assert "not open for sign-ups" in text_of(client.get("/embed/over/join"))
    assert client.post("/embed/over/join", data={}).status_code == 409


def test_only_the_form_widgets_take_a_post(client: FlaskClient, live: Campaign) -> None:
    assert client.post("/embed/bikes/leaderboard").status_code == 405
    assert client.post("/embed/bikes/me").status_code == 405


# --- the advocate's own widgets -----------------------------------------------------------


def test_the_me_widget_shows_the_tokens_participant_their_figures_and_link(
    client: FlaskClient, live: Campaign
) -> None:
    advocate = _advocate(live)
    token = embeds.issue_token(live, {"participant_id": str(advocate.id)}).token
    for kind in ("me", "share"):
        response = client.get(f"/embed/bikes/{kind}?token={token}&origin={SHOP}")
        assert response.status_code == 200
        page = text_of(response)
        assert f"/r/{advocate.referral_code}" in page
    assert "Hello Ada!" in text_of(client.get(f"/embed/bikes/me?token={token}"))


def test_without_a_token_the_me_widget_asks_to_sign_in_and_share_offers_the_form(
    client: FlaskClient, live: Campaign
) -> None:
    response = client.get("/embed/bikes/me")
    assert response.status_code == 401
    assert "Sign in on this site" in text_of(response)
    assert 'name="started"' in client.get("/embed/bikes/share").get_data(as_text=True)


def test_an_expired_or_altered_token_is_a_clear_page_in_the_frame(
    app: Flask, client: FlaskClient, live: Campaign, factory: Factory
) -> None:
    advocate = _advocate(live)
    token = embeds.issue_token(live, {"participant_id": str(advocate.id)}).token
    other = factory.campaign(status="live", slug="other", embed_origins=[SHOP])
    refused = client.get(f"/embed/bikes/me?token={token[:-3]}abc")
    assert refused.status_code == 403 and "not valid" in text_of(refused)
    assert client.get(f"/embed/other/me?token={token}").status_code == 403
    assert other.id
    app.config["EMBED_TOKEN_SECONDS"] = -1
    expired = client.get(f"/embed/bikes/me?token={token}")
    assert expired.status_code == 401 and "expired" in text_of(expired)
    assert _frame_ancestors(expired) == f"'self' {SHOP}"
    assert advocate.referral_code not in text_of(expired)


# --- the admin page -------------------------------------------------------------------------


def test_a_marketer_sets_the_allowed_sites_and_sees_the_snippet(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, status="live", slug="shop-widget")
    path = f"/admin/campaigns/{campaign.id}/embed"
    page = text_of(browser.client.get(path))
    assert f'integrity="{widget.integrity()}"' in page
    assert 'data-campaign="shop-widget"' in page
    response = browser.post(path, {"origins": "https://Shop.example.com/\nhttp://localhost:8000"})
    assert response.status_code == 302
    db.session.expire_all()
    assert campaign.embed_origins == ["https://shop.example.com", "http://localhost:8000"]


def test_garbage_sites_come_back_on_the_form_and_change_nothing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace, status="live", embed_origins=[SHOP])
    path = f"/admin/campaigns/{campaign.id}/embed"
    response = browser.post(path, {"origins": "https://ok.example\n*\nhttps://x.example/page"})
    assert response.status_code == 422
    page = text_of(response)
    assert "“*” is not a site address" in page and "“https://x.example/page”" in page
    assert "https://ok.example" in page  # what was typed stays on the form
    db.session.expire_all()
    assert campaign.embed_origins == [SHOP]


def test_a_viewer_reads_the_sites_but_cannot_change_them(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live", embed_origins=[SHOP])
    path = f"/admin/campaigns/{campaign.id}/embed"
    page = text_of(browser.client.get(path))
    assert SHOP in page and "<textarea" not in page
    assert browser.post(path, {"origins": "https://evil.example"}).status_code == 403
    db.session.expire_all()
    assert campaign.embed_origins == [SHOP]


# --- the API --------------------------------------------------------------------------------


def test_the_api_sets_and_reads_the_allowed_sites(api: Api) -> None:
    campaign = api.campaign()
    path = f"/campaigns/{campaign['id']}/embed"
    body = api.ok("PUT", path, json={"origins": ["HTTPS://Shop.Example.com", SHOP]})
    assert body["origins"] == ["https://shop.example.com", SHOP]
    assert body["integrity"] == widget.integrity()
    assert body["script_url"] == "http://localhost/w/v1.js"
    assert f'data-campaign="{campaign["slug"]}"' in body["snippet"]
    assert api.ok("GET", path)["origins"] == body["origins"]
    assert api.ok("PUT", path, json={"origins": []})["origins"] == []


@pytest.mark.parametrize(
    "origins", [["*"], ["https://shop.example.com/page"], ["javascript:alert(1)"], ["x"] * 21]
)
def test_the_api_refuses_values_that_are_not_sites(api: Api, origins: list[str]) -> None:
    campaign = api.campaign()
    response = api.call("PUT", f"/campaigns/{campaign['id']}/embed", json={"origins": origins})
    body = assert_problem(response, 422)
    assert "origins" in body["errors"]
    assert api.ok("GET", f"/campaigns/{campaign['id']}/embed")["origins"] == []


def test_a_sites_server_gets_a_token_for_its_signed_in_customer(api: Api) -> None:
    campaign = api.campaign()
    person = api.join(campaign["id"], "Grace@Example.com")
    path = f"/campaigns/{campaign['id']}/embed-tokens"
    by_email = api.ok("POST", path, 201, json={"email": "grace@example.com"})
    by_id = api.ok("POST", path, 201, json={"participant_id": person["id"]})
    assert by_email["participant_id"] == by_id["participant_id"] == person["id"]
    assert by_email["expires_at"].endswith("+00:00")
    found = db.session.get(Campaign, int(campaign["id"]))
    assert found is not None
    assert embeds.participant_of_token(found, by_id["token"]).id == int(person["id"])
    for body in ({}, {"email": "nobody@example.com"}, {"participant_id": "99999"}):
        assert_problem(api.call("POST", path, json=body), 422)
