"""The demo's referral campaign may be embedded by the development server and a page beside
it, so /embed/demo and a local test page work with `make run`; the demo page shows it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import widget
from referral.demo.embeds import BESIDE, SLUG, seed_demo_embeds
from referral.demo.seed import seed_demo
from referral.extensions import db
from referral.models import Campaign


def test_the_demo_allows_its_own_server_and_a_page_beside_it_once(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    seed_demo(participants=60)
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
    assert campaign is not None
    assert campaign.embed_origins == ["http://127.0.0.1:5000", BESIDE]
    campaign.embed_origins = ["https://kept.example"]  # a marketer's choice stays
    db.session.commit()
    seed_demo_embeds(campaign.workspace_id)
    db.session.expire_all()
    assert campaign.embed_origins == ["https://kept.example"]

    assert client.get("/embed/demo").status_code == 404  # not on a server in production
    app.config["REFERRAL_ENV"] = "development"
    response = client.get("/embed/demo")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'integrity="{widget.integrity()}"' in page
    assert page.count("<div data-referral-widget=") == 4
    assert f'data-campaign="{SLUG}"' in page and 'data-token="' in page
