"""Prize draws on the pages: the admin rules form and draw button, the public rules page,
the verify page, the JSON download and the winners list."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from referral.domain.draws import verify_record
from referral.extensions import db
from referral.models import Campaign, Draw
from referral.services import draws
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.conftest import Browser
from tests.factories import LOTTERY_RULES, Factory

RULES_FORM = {
    "sponsor": "Acme B.V.",
    "sponsor_address": "Main street 1, Utrecht",
    "timezone": "Europe/Amsterdam",
    "regions": "nl, BE",
    "min_age": "18",
    "entry_limit": "3",
    "prize_name": "Bike",
    "prize_value": "49900",
    "prize_currency": "eur",
    "prize_quantity": "1",
    "winners": "1",
    "alternates": "2",
    "claim_days": "14",
    "free_entry_method": "Fill in the form on this page.",
}


def closed_lottery(factory: Factory, workspace: Any, people: int = 4) -> Campaign:
    campaign = publish_campaign(factory.campaign(workspace, kind="lottery"))
    for n in range(people):
        request = JoinRequest(email=f"p{n}@example.org", name=f"Person{n} Smith", confirmed=True)
        join_campaign(campaign, request, Visitor())
    return close_campaign(campaign)


def test_the_admin_rules_form_names_what_is_missing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="lottery", settings={})
    page = f"/admin/campaigns/{campaign.id}/lottery"
    assert "Still missing before publishing" in browser.client.get(page).get_data(as_text=True)
    bad = browser.post(
        f"{page}/rules", {**RULES_FORM, "sponsor": "", "regions": "Holland"}, form_page=page
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "This field is required." in html and "ISO 3166" in html
    assert db.session.get(Campaign, campaign.id).settings.get("rules") is None
    good = browser.post(f"{page}/rules", RULES_FORM, form_page=page)
    assert good.status_code == 302
    rules = db.session.get(Campaign, campaign.id).settings["rules"]
    assert rules["regions"] == ["NL", "BE"] and rules["prizes"][0]["currency"] == "EUR"


def test_publishing_from_the_admin_without_rules_says_what_is_missing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="lottery", settings={})
    response = browser.post(f"/admin/campaigns/{campaign.id}/publish")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Still missing" in html and "sponsor_address" in html
    assert db.session.get(Campaign, campaign.id).status == "draft"


def test_the_admin_draw_button_draws_once_and_exports_winners(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = closed_lottery(factory, workspace)
    page = f"/admin/campaigns/{campaign.id}/lottery"
    drawn = browser.post(f"{page}/draw", {"winners": "1", "alternates": "1"}, form_page=page)
    assert drawn.status_code == 302
    again = browser.post(f"{page}/draw", {"winners": "1", "alternates": "1"}, form_page=page)
    assert again.status_code == 409
    assert db.session.query(Draw).count() == 1
    csv_text = browser.client.get(f"{page}/winners.csv").get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert lines[0] == "position,entry_id,entries,name,email" and len(lines) == 2
    assert "@example.org" in lines[1]


def test_lottery_admin_pages_of_another_workspace_answer_404(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    login_as("owner")
    other = closed_lottery(factory, factory.workspace(), people=1)
    assert browser.client.get(f"/admin/campaigns/{other.id}/lottery").status_code == 404
    assert browser.client.get(f"/admin/campaigns/{other.id}/lottery/winners.csv").status_code == 404


def test_invariant_5_no_purchase_necessary_the_public_rules_page_shows_the_rules_in_each_language(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = publish_campaign(factory.campaign(kind="lottery"))
    commitment = campaign.settings["commitment"]
    english = client.get(f"/c/{campaign.slug}/rules").get_data(as_text=True)
    assert LOTTERY_RULES["sponsor"] in english and commitment in english
    assert "No purchase necessary." in english and "Europe/Amsterdam" in english
    german = client.get(f"/c/{campaign.slug}/rules?lang=de").get_data(as_text=True)
    assert commitment in german and "No purchase necessary." not in german


def test_a_draft_or_other_kind_has_no_rules_page(client: FlaskClient, factory: Factory) -> None:
    draft = factory.campaign(kind="lottery")
    referral = factory.campaign(status="live")
    assert client.get(f"/c/{draft.slug}/rules").status_code == 404
    assert client.get(f"/c/{referral.slug}/rules").status_code == 404


def test_invariant_4_fair_draws_the_verify_page_checks_the_record_and_offers_the_json(
    client: FlaskClient, factory: Factory
) -> None:
    campaign = closed_lottery(factory, factory.workspace())
    draw = draws.run_draw(campaign, 1, 1)
    html = client.get(f"/draws/{draw.id}/verify").get_data(as_text=True)
    assert 'data-testid="server-verdict" data-state="verified"' in html
    assert "js/verify-draw.js" in html and "<script>" not in html
    assert "Person" not in html  # winners' names only once the list is published
    download = client.get(f"/draws/{draw.id}.json")
    assert "attachment" in download.headers["Content-Disposition"]
    record = json.loads(download.get_data(as_text=True))
    assert verify_record(record).ok and record["winners"] == draw.record["winners"]
    draws.publish_results(draw)
    published = client.get(f"/draws/{draw.id}/verify").get_data(as_text=True)
    assert "Person" in published and "Smith" not in published and "@" not in published
    assert client.get("/draws/9999/verify").status_code == 404


def test_amending_live_rules_from_the_admin_publishes_a_new_version(
    browser: Browser, login_as: Any, factory: Factory, client: FlaskClient
) -> None:
    _, workspace = login_as("editor")
    campaign = publish_campaign(factory.campaign(workspace, kind="lottery"))
    page = f"/admin/campaigns/{campaign.id}/lottery"
    refused = browser.post(f"{page}/amend", {**RULES_FORM, "reason": ""}, form_page=page)
    assert refused.status_code == 422
    done = browser.post(
        f"{page}/amend", {**RULES_FORM, "claim_days": "30", "reason": "Longer to claim"}, page
    )
    assert done.status_code == 302
    assert db.session.get(Campaign, campaign.id).settings["rules"]["claim_days"] == 30
    html = client.get(f"/c/{campaign.slug}/rules").get_data(as_text=True)
    assert "Version 1" in html and "Version 2" in html and "Longer to claim" in html


def test_a_participant_finds_their_entry_id_on_their_page(
    client: FlaskClient, factory: Factory
) -> None:
    from referral.services.advocates import advocate_token
    from referral.services.lottery import entry_of

    campaign = publish_campaign(factory.campaign(kind="lottery"))
    request = JoinRequest(email="ada@example.org", confirmed=True)
    person = join_campaign(campaign, request, Visitor()).participation
    before = client.get(f"/me/{advocate_token(person)}").get_data(as_text=True)
    assert "You hold 1 entry in the draw." in before
    close_campaign(campaign)
    entry_id = entry_of(person).entry_id
    after = client.get(f"/me/{advocate_token(person)}").get_data(as_text=True)
    assert entry_id and entry_id in after


def test_a_viewer_reads_the_prize_draw_page_but_cannot_draw(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = closed_lottery(factory, workspace, people=2)
    page = f"/admin/campaigns/{campaign.id}/lottery"
    assert browser.client.get(page).status_code == 200
    for action in ("draw", "rules", "amend", "replace", "publish-winners"):
        response = browser.post(f"{page}/{action}", {"winners": "1"}, form_page=page)
        assert response.status_code == 403, action
    assert db.session.query(Draw).count() == 0
