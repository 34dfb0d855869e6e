"""Security and caching headers from one source (referral/headers.py) on every response:
pages, the API, SVG charts and the referral-link fast path alike."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral import config as settings
from referral import create_app
from referral.extensions import db
from referral.headers import HSTS, common_headers
from referral.models import Participation
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.conftest import Browser
from tests.factories import Factory

HTTPS = "https://localhost"


@pytest.fixture
def https_app(app: Flask) -> Flask:
    """The test's database, served as in production with FORCE_HTTPS on."""
    config = {
        **settings.test_config(app.config["SQLALCHEMY_DATABASE_URI"]),
        "FORCE_HTTPS": True,
        "SESSION_COOKIE_SECURE": True,
    }
    return create_app(config)


@pytest.fixture
def advocate(factory: Factory) -> Participation:
    campaign = factory.campaign(status="live", slug="summer")
    request = JoinRequest(email="ada@example.com", name="Ada", confirmed=True)
    participation = join_campaign(campaign, request, Visitor()).participation
    db.session.commit()
    return participation


def _security(response: Any) -> dict[str, str]:
    names = {name for name, _ in common_headers(True)}
    return {name: response.headers.get(name, "") for name in names}


def test_the_fast_path_redirect_carries_hsts_and_the_same_headers_as_a_page(
    https_app: Flask, advocate: Participation
) -> None:
    client = https_app.test_client()
    redirect = client.get(f"/r/{advocate.referral_code}", base_url=HTTPS)
    page = client.get("/", base_url=HTTPS)
    assert redirect.status_code == 302 and redirect.headers["Location"].endswith("/c/summer")
    assert redirect.headers["Strict-Transport-Security"] == HSTS
    assert _security(redirect) == _security(page)
    assert all(_security(redirect).values())
    assert "frame-ancestors 'none'" in redirect.headers["Content-Security-Policy"]


def test_a_plain_http_referral_link_goes_to_https_first(
    https_app: Flask, advocate: Participation
) -> None:
    response = https_app.test_client().get(f"/r/{advocate.referral_code}")
    assert response.status_code in (301, 302)
    assert response.headers["Location"].startswith("https://")


def test_without_force_https_no_response_claims_hsts(
    client: FlaskClient, advocate: Participation
) -> None:
    assert "Strict-Transport-Security" not in client.get(f"/r/{advocate.referral_code}").headers
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_personal_data_pages_and_api_answers_are_never_stored(
    browser: Browser, login_as: Any, factory: Factory, client: FlaskClient
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace, status="live", slug="privacy")
    person = join_campaign(
        campaign, JoinRequest(email="bo@example.com", confirmed=True), Visitor()
    ).participation
    db.session.commit()
    pages = [
        "/admin/customers",
        f"/admin/customers/{person.customer_id}",
        f"/admin/campaigns/{campaign.id}/participants",
        "/admin/review",
        f"/admin/campaigns/{campaign.id}/dashboard/funnel.svg",
    ]
    for path in pages:
        response = browser.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    _, secret = factory.api_key(workspace)
    auth = {"Authorization": f"Bearer {secret}"}
    ident = str(person.id)
    for path in (
        f"/api/v1/campaigns/{campaign.id}/participants",
        f"/api/v1/participants/{ident}",
        f"/api/v1/participants/{ident}/rewards",
    ):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert response.headers["Cache-Control"] == "no-store", path


def test_svg_charts_may_not_be_framed(browser: Browser, login_as: Any, factory: Factory) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live", slug="charts")
    response = browser.client.get(f"/admin/campaigns/{campaign.id}/dashboard/funnel.svg")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
