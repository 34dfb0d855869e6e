"""Entering a prize draw on its landing page: age and region are checked at entry, with
clear reasons, and the birth date is not stored."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient

from referral.extensions import db
from referral.models import Campaign, Customer, Participation
from referral.services.campaigns import publish_campaign
from tests.factories import Factory
from tests.web.conftest import join_through_form


@pytest.fixture
def draw(factory: Factory) -> Campaign:
    campaign = factory.campaign(kind="lottery", slug="bike-draw")
    return publish_campaign(campaign)


def adult_birth_date() -> str:
    today = date.today()
    return f"{today.year - 30}-01-15"


def test_invariant_5_no_purchase_necessary_the_landing_page_shows_eligibility_and_odds_before_entry(
    client: FlaskClient, draw: Campaign
) -> None:
    html = client.get(f"/c/{draw.slug}").get_data(as_text=True)
    assert 'name="birth_date"' in html and 'type="date"' in html
    assert '<option value="NL">Netherlands</option>' in html
    assert "Official rules and odds" in html and draw.settings["commitment"] in html


def test_invariant_5_no_purchase_necessary_an_eligible_adult_enters_and_no_birth_date_is_stored(
    client: FlaskClient, draw: Campaign
) -> None:
    birth = adult_birth_date()
    response = join_through_form(client, draw, birth_date=birth, region="NL")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert db.session.query(Participation).count() == 1
    customer = db.session.query(Customer).one()
    stored = " ".join(str(value) for value in vars(customer).values())
    assert birth not in stored


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        # Every reason of the rule: tests/services/test_lottery.py; here the page shows one of
        # the rule's and one of the form's.
        ({"birth_date": f"{date.today().year - 15}-01-01", "region": "NL"}, "at least 18"),
        ({"birth_date": "not a date", "region": "NL"}, "Not a valid date value"),
    ],
    ids=["too young", "malformed date"],
)
def test_invariant_5_no_purchase_necessary_an_ineligible_entry_is_refused_with_its_reason(
    client: FlaskClient, draw: Campaign, fields: dict[str, str], reason: str
) -> None:
    fields.setdefault("birth_date", adult_birth_date())
    response = join_through_form(client, draw, **fields)
    assert response.status_code == 422
    assert reason in response.get_data(as_text=True)
    assert db.session.query(Participation).count() == 0
