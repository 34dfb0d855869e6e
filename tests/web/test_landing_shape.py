"""The landing page comes from its shape (``referral.slots``): for every visitor exactly
what rendering the templates for them gives, and rendered once per campaign and language."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import flash, render_template, url_for
from flask_wtf.csrf import generate_csrf

from referral.extensions import db
from referral.models import Customer
from referral.models.base import utcnow
from referral.public import join
from referral.services import advocates
from tests.factories import Factory

STAMP = "stamp-of-the-test"


def _both(app, campaign, path: str, code: str, inviter: str, language: str = "en"):
    """(from the shape, rendered directly) within one request, with the same token."""
    with app.test_request_context(path, headers={"Accept-Language": language}):
        shaped = join._landing_page(campaign, code, inviter)
        form = join._form(campaign, formdata=None)
        form.started.data, form.ref.data = STAMP, code
        direct = join._landing(campaign, form, inviter=inviter)[0]
        assert generate_csrf() in shaped
    return shaped, direct


@pytest.mark.parametrize("kind", ["referral", "lottery", "trial", "survey"])
@pytest.mark.parametrize("language", ["en", "de", "zh-Hant"])
def test_the_page_from_its_shape_is_the_page_rendered_for_the_visitor(
    app, factory: Factory, monkeypatch, kind: str, language: str
) -> None:
    monkeypatch.setattr(join, "form_stamp", lambda _campaign_id, at=None: STAMP)
    campaign = factory.campaign(status="live", kind=kind, name='Beans & "friends" <b>')
    friend = factory.participation(campaign)
    slug = campaign.slug
    cases = [
        (f"/c/{slug}", "", ""),
        (f"/c/{slug}?ref={friend.referral_code}", friend.referral_code, "Ada <i>&</i> Co"),
        (f"/c/{slug}?ref={friend.referral_code}&utm_source=<x>&q=%22a%26b%22", "abc", "Bo"),
    ]
    for path, code, inviter in cases:
        shaped, direct = _both(app, campaign, path, code, inviter, language)
        assert shaped == direct


def test_the_shape_is_rendered_once_per_campaign_and_language(
    app, factory: Factory, monkeypatch
) -> None:
    campaign = factory.campaign(status="live", name="Summer beans")
    rendered: list[bool] = []
    real = join._landing_shape

    def counting(*args, **kwargs):
        rendered.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(join, "_landing_shape", counting)
    client = app.test_client()
    for _ in range(3):
        page = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
        assert "Summer beans" in page
    assert len(rendered) == 1
    client.get(f"/c/{campaign.slug}", headers={"Accept-Language": "de"})
    assert len(rendered) == 2
    db.session.get(type(campaign), campaign.id).name = "Winter beans"
    db.session.commit()
    assert "Winter beans" in client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert len(rendered) == 3


def test_a_visitor_with_a_message_gets_the_page_rendered_for_them(
    app, factory: Factory, monkeypatch
) -> None:
    monkeypatch.setattr(join, "form_stamp", lambda _campaign_id, at=None: STAMP)
    campaign = factory.campaign(status="live")
    with app.test_request_context(f"/c/{campaign.slug}"):
        flash("A message for you")
        page = join._landing_page(campaign, "", "")
        assert "A message for you" in page
        assert generate_csrf() in page


def test_each_visitor_gets_their_own_token_and_the_form_still_joins(app, factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    app.config["JOIN_MIN_SECONDS"] = 0
    tokens = set()
    for n in range(2):
        client = app.test_client()
        page = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
        token = join_field(page, "csrf_token")
        tokens.add(token)
        response = client.post(
            f"/c/{campaign.slug}",
            data={
                "csrf_token": token,
                "started": join_field(page, "started"),
                "ref": "",
                "email": f"visitor{n}@example.org",
                "consent": "y",
            },
        )
        assert response.status_code == 303
    assert len(tokens) == 2
    assert db.session.query(Customer).count() == 2


def join_field(page: str, name: str) -> str:
    marker = f'name="{name}" type="hidden" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


@pytest.mark.parametrize("language", ["en", "nl", "zh-Hans"])
def test_the_check_your_inbox_page_from_its_shape_is_the_page_rendered(
    app, factory: Factory, language: str
) -> None:
    campaign = factory.campaign(status="live", name='Beans & "friends"')
    for query in ("", "?a=%22b%26c%22&x=<y>"):
        path = f"/c/{campaign.slug}/joined{query}"
        with app.test_request_context(path, headers={"Accept-Language": language}):
            shaped = join.joined(campaign.slug)
            assert shaped == render_template("public/joined.html", campaign=campaign)
    client = app.test_client()
    assert "Beans &amp; &#34;friends&#34;" in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("kind", ["referral", "survey", "trial", "instant_win"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_thank_you_page_from_its_shape_is_the_page_rendered(
    app, factory: Factory, kind: str, language: str
) -> None:
    campaign = factory.campaign(status="live", kind=kind, name='Beans & "friends"')
    people = [
        factory.participation(campaign, confirmed_at=utcnow(), status="confirmed"),
        factory.participation(
            campaign, confirmed_at=utcnow(), status="confirmed", referral_status="self_referral"
        ),
    ]
    for person in people:
        with app.test_request_context("/confirm/x?a=<b>", headers={"Accept-Language": language}):
            shaped = join.thank_you(person).get_data(as_text=True)
            referral_url = advocates.referral_url(person)
            values = {
                "referral_url": referral_url,
                "advocate_url": url_for("advocate.page", token=advocates.advocate_token(person)),
                "survey_url": join._survey_url(person) or "",
                "kind_url": join._kind_url(person, campaign) or "",
            }
            assert shaped == join._thanks(campaign, person, values)
            assert quote(f"{referral_url}?ch=whatsapp", safe="") in shaped
            assert ("self-referral" in shaped) == (person.referral_status == "self_referral")
