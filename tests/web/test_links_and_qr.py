"""Referral links, attribution cookies, and QR codes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, func, select, text

from referral.extensions import db
from referral.models import Campaign, Click, Customer, Participation
from referral.public.cookies import ATTRIBUTION_COOKIE
from referral.security import hash_ip, keyed_hash
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory
from tests.web.conftest import IP, join_through_form


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live", slug="summer", attribution_days=30)


@pytest.fixture
def advocate(live: Campaign) -> Participation:
    request = JoinRequest(email="ada@example.com", name="Ada Lovelace", confirmed=True)
    return join_campaign(live, request, Visitor()).participation


def clicks() -> list[Click]:
    return list(db.session.scalars(select(Click).order_by(Click.id)))


def joined(email: str) -> Participation:
    query = select(Participation).join(Customer).where(Customer.email == email)
    return db.session.scalars(query).one()


def cookie_header(response: Any, name: str) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


# --- /r/<code> -------------------------------------------------------------------------------


def test_a_referral_link_logs_the_click_and_redirects_to_the_campaigns_landing_page(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    response = client.get(f"/r/{advocate.referral_code}", environ_base={"REMOTE_ADDR": IP})
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/summer"
    [click] = clicks()
    assert (click.campaign_id, click.participation_id) == (live.id, advocate.id)
    assert click.channel == "link"
    assert click.ip_hash == hash_ip(IP)
    assert click.visitor_hash and len(click.visitor_hash) == 64
    ref = cookie_header(response, "ref")
    assert "HttpOnly" in ref and "SameSite=Lax" in ref and f"Max-Age={30 * 24 * 3600}" in ref
    vid = cookie_header(response, "vid")
    assert "HttpOnly" in vid and "SameSite=Lax" in vid
    assert click.visitor_hash == keyed_hash(vid.split(";")[0].split("=", 1)[1], "visitor")


# The whole whitelist, and the utm parameters kept: tests/services/test_clicks_and_attribution.py
@pytest.mark.parametrize(("ch", "channel"), [("QR", "qr"), ("myspace", "link")])
def test_the_channel_of_the_link_is_logged_from_the_whitelist(
    client: FlaskClient, advocate: Participation, ch: str, channel: str
) -> None:
    client.get(f"/r/{advocate.referral_code}", query_string={"ch": ch})
    assert [c.channel for c in clicks()] == [channel]


def test_the_raw_ip_address_is_stored_in_no_column(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    """After a click and a sign-up from 203.0.113.77, does that string appear anywhere?"""
    client.get(f"/r/{advocate.referral_code}?utm_source=x", environ_base={"REMOTE_ADDR": IP})
    assert join_through_form(client, live, "friend@example.com").status_code == 303
    assert len(clicks()) == 1 and joined("friend@example.com").referrer_id == advocate.id
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            found += [f"{table.name}.{k}" for k, v in row.items() if v is not None and IP in str(v)]
    assert found == []


def test_a_sign_up_after_a_click_carries_the_channel_and_utm_of_the_click(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    client.get(f"/r/{advocate.referral_code}?ch=whatsapp&utm_source=group")
    join_through_form(client, live, "friend@example.com")
    friend = joined("friend@example.com")
    assert (friend.referrer_id, friend.referral_status) == (advocate.id, "referred")
    assert friend.channel == "whatsapp"
    assert friend.utm == {"utm_source": "group"}


# A touch whose window has passed, a tampered cookie, the cookie's size:
# tests/unit/test_attribution_cookie.py.


def test_first_touch_wins_across_two_different_codes(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    second = join_campaign(live, JoinRequest(email="bob@example.com", confirmed=True)).participation
    client.get(f"/r/{advocate.referral_code}")
    later = client.get(f"/r/{second.referral_code}?ch=qr")
    assert later.headers["Location"] == "/c/summer"
    assert not [h for h in later.headers.getlist("Set-Cookie") if h.startswith("ref=")]
    assert len(clicks()) == 2  # both visits count as clicks; only the first as the referrer
    join_through_form(client, live, "friend@example.com")
    friend = joined("friend@example.com")
    assert friend.referrer_id == advocate.id
    assert friend.channel == "link"


def test_ref_in_the_landing_address_counts_as_a_touch(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    page = client.get(f"/c/summer?ref={advocate.referral_code}&ch=email&utm_source=mail")
    assert page.status_code == 200
    cookie_header(page, "ref")
    [click] = clicks()
    assert (click.channel, click.utm) == ("email", {"utm_source": "mail"})
    join_through_form(
        client, live, "friend@example.com", page=f"/c/summer?ref={advocate.referral_code}"
    )
    friend = joined("friend@example.com")
    assert (friend.referrer_id, friend.channel) == (advocate.id, "email")


def test_ref_does_not_replace_an_earlier_touch(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    other = join_campaign(live, JoinRequest(email="bob@example.com", confirmed=True)).participation
    client.get(f"/r/{advocate.referral_code}")
    join_through_form(
        client, live, "friend@example.com", page=f"/c/summer?ref={other.referral_code}"
    )
    assert joined("friend@example.com").referrer_id == advocate.id


def test_ref_works_without_cookies_through_the_form(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    """A browser that refuses cookies still credits the advocate of ?ref=."""
    shown = client.get(f"/c/summer?ref={advocate.referral_code}").get_data(as_text=True)
    assert f'name="ref" type="hidden" value="{advocate.referral_code}"' in shown
    client.delete_cookie(ATTRIBUTION_COOKIE)
    join_through_form(
        client, live, "friend@example.com", ref=advocate.referral_code, page="/c/summer"
    )
    assert joined("friend@example.com").referrer_id == advocate.id


def test_ref_of_another_campaign_is_ignored(
    client: FlaskClient, live: Campaign, factory: Factory
) -> None:
    other = factory.campaign(status="live")
    stranger = join_campaign(
        other, JoinRequest(email="s@example.com", confirmed=True)
    ).participation
    page = client.get(f"/c/summer?ref={stranger.referral_code}")
    assert page.status_code == 200
    assert clicks() == []
    assert not [h for h in page.headers.getlist("Set-Cookie") if h.startswith("ref=")]


def test_an_unknown_code_is_a_404_and_logs_no_click(
    client: FlaskClient, advocate: Participation
) -> None:
    """Which codes are unknown: tests/services/test_clicks_and_attribution.py."""
    assert client.get("/r/ZZZZZZZZ").status_code == 404
    assert clicks() == []


def test_a_code_of_a_draft_campaign_is_a_404(client: FlaskClient, factory: Factory) -> None:
    draft = factory.campaign(status="draft")
    owner = factory.participation(draft)
    assert client.get(f"/r/{owner.referral_code}").status_code == 404
    assert client.get(f"/q/{owner.referral_code}.png").status_code == 404
    assert clicks() == []


OPEN_REDIRECTS = [
    "/r/{code}?next=https://evil.example",
    "/r/{code}?url=//evil.example&redirect=https:%2F%2Fevil.example",
    "/r/%2F%2Fevil.com",
    "/r//evil.com",
    "/r/{code}/../..",
    "/r/{code}/..%2F..%2F%2Fevil.com",
    "/r/https:%2F%2Fevil.com",
    "/r/%5C%5Cevil.com",
    "/r/{code}%0d%0aLocation:%20https://evil.example",
    "/r/{code}?ch=https://evil.example",
]


def test_a_referral_link_never_redirects_off_site(
    client: FlaskClient, advocate: Participation, subtests: pytest.Subtests
) -> None:
    """Does any crafted /r/ address send the visitor somewhere other than /c/<slug>?"""
    for path in OPEN_REDIRECTS:
        with subtests.test(path=path):
            response = client.get(path.format(code=advocate.referral_code))
            for _ in range(5):
                if response.status_code not in (301, 302, 303, 307, 308):
                    break
                location = response.headers["Location"]
                parts = urlsplit(location)
                assert parts.netloc in ("", "localhost"), location
                assert not location.startswith("//") and "\\" not in location
                response = client.get(location)
            assert response.status_code in (200, 404)
            if response.status_code == 200:
                assert response.request.path == "/c/summer"


# --- the hot path ----------------------------------------------------------------------------


def test_a_click_costs_one_lookup_one_insert_and_one_counter_upsert(
    app: Flask, client: FlaskClient, advocate: Participation
) -> None:
    code = advocate.referral_code
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        if words[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):  # not queries
            statements.append(" ".join(words[:3]) if words[0] == "INSERT" else words[0])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get(f"/r/{code}")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statements == ["SELECT", "INSERT INTO clicks", "INSERT INTO counters"]


# --- QR codes --------------------------------------------------------------------------------


def decode(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_the_qr_png_decodes_to_the_referral_link_marked_as_a_scan(
    client: FlaskClient, advocate: Participation
) -> None:
    response = client.get(f"/q/{advocate.referral_code}.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode(response.data) == [f"http://localhost/r/{advocate.referral_code}?ch=qr"]


def test_the_wechat_qr_is_counted_as_a_wechat_share(
    client: FlaskClient, advocate: Participation
) -> None:
    response = client.get(f"/q/{advocate.referral_code}.png?ch=wechat")
    assert decode(response.data) == [f"http://localhost/r/{advocate.referral_code}?ch=wechat"]
    other = client.get(f"/q/{advocate.referral_code}.png?ch=https://evil.example")
    assert decode(other.data) == [f"http://localhost/r/{advocate.referral_code}?ch=qr"]


def test_the_qr_follows_the_public_base_url(
    app: Flask, client: FlaskClient, advocate: Participation
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://refer.example.com"
    response = client.get(f"/q/{advocate.referral_code}.png")
    assert decode(response.data) == [f"https://refer.example.com/r/{advocate.referral_code}?ch=qr"]


def test_the_qr_svg_is_valid_xml(client: FlaskClient, advocate: Participation) -> None:
    response = client.get(f"/q/{advocate.referral_code}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)  # noqa: S314 (our own output, under test)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_qr_images_carry_a_strong_etag_and_answer_304_when_unchanged(
    client: FlaskClient, advocate: Participation, suffix: str
) -> None:
    url = f"/q/{advocate.referral_code}.{suffix}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=86400" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_a_qr_of_an_unknown_code_is_a_404(client: FlaskClient, live: Campaign) -> None:
    assert client.get("/q/ZZZZZZZZ.png").status_code == 404
    assert client.get("/q/ZZZZZZZZ.svg").status_code == 404
    assert client.get("/q/ZZZZZZZZ/card").status_code == 404


def test_the_printable_card_shows_the_campaign_a_big_qr_and_the_short_link(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    response = client.get(f"/q/{advocate.referral_code}/card")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert live.name in page
    assert f'<img class="qr qr-large" src="/q/{advocate.referral_code}.svg"' in page
    assert f"localhost/r/{advocate.referral_code}" in page
    assert "data-print" in page and "landing.css" in page


def test_the_database_holds_no_clicks_for_pages_that_are_only_read(
    client: FlaskClient, advocate: Participation, live: Campaign
) -> None:
    client.get("/c/summer")
    client.get(f"/q/{advocate.referral_code}.png")
    client.get(f"/q/{advocate.referral_code}/card")
    assert db.session.scalar(select(func.count()).select_from(Click)) == 0
    assert db.session.execute(text("SELECT 1")).scalar() == 1
