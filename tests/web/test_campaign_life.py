"""A campaign's life in the admin and the API: duplicating it, closing it after a confirmation
that says what closing does, the publishing checks, and the sign-ups a draw holds for review."""

from __future__ import annotations

import html
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import AuditEntry, Campaign
from referral.services import counters, instant_win, survey_builder
from referral.services.campaigns import publish_campaign
from referral.services.rules import add_rule
from tests.conftest import Browser
from tests.factories import Factory
from tests.web.conftest import API, Api, assert_problem


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def campaigns_in(workspace_id: int) -> int:
    query = select(func.count()).select_from(Campaign).where(Campaign.workspace_id == workspace_id)
    return db.session.scalar(query) or 0


def reload(campaign_id: int) -> Campaign:
    db.session.expire_all()
    found = db.session.get(Campaign, campaign_id)
    assert found is not None
    return found


# --- API: duplicate ----------------------------------------------------------------------------


def test_duplicating_answers_201_with_a_draft_copy_and_its_location(api: Api) -> None:
    source = api.campaign(name="Spring referral", slug="spring", reward_depth=1)
    api.rule(source["id"], event="signup_confirmed", level=1, reward="points", amount=100)

    response = api.post(f"/campaigns/{source['id']}/duplicate")

    assert response.status_code == 201, response.get_data(as_text=True)
    copy = response.get_json()
    assert response.headers["Location"] == f"{API}/campaigns/{copy['id']}"
    assert copy["id"] != source["id"]
    assert (copy["name"], copy["slug"], copy["status"]) == (
        "Spring referral (copy)",
        "spring-copy",
        "draft",
    )
    assert copy["published_at"] is None and copy["closed_at"] is None
    assert api.get(f"/campaigns/{copy['id']}").get_json() == copy
    rules = api.ok("GET", f"/campaigns/{copy['id']}/reward-rules")["items"]
    assert [(r["event"], r["level"], r["amount"]) for r in rules] == [("signup_confirmed", 1, 100)]
    again = api.ok("POST", f"/campaigns/{source['id']}/duplicate", 201)
    assert again["slug"] == "spring-copy-2"


def test_a_replayed_duplicate_answers_the_first_copy_and_makes_no_second(
    api: Api, workspace: Any
) -> None:
    source = api.create(name="Draw")
    first = api.post(f"/campaigns/{source['id']}/duplicate", key="copy-once")
    replay = api.post(f"/campaigns/{source['id']}/duplicate", key="copy-once")
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert campaigns_in(workspace.id) == 2


def test_another_workspaces_campaign_cannot_be_duplicated(
    api: Api, other_api: Api, workspace: Any
) -> None:
    source = api.create()
    assert_problem(other_api.post(f"/campaigns/{source['id']}/duplicate"), 404)
    assert campaigns_in(workspace.id) == 1


def test_duplicating_needs_a_key(client: FlaskClient, factory: Factory) -> None:
    campaign = factory.campaign()
    assert_problem(client.post(f"{API}/campaigns/{campaign.id}/duplicate"), 401)


def test_the_document_describes_the_duplicate_operation(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/api/v1/campaigns/{campaign_id}/duplicate"]["post"]
    assert operation["operationId"] == "duplicateCampaign"
    assert {"201", "401", "404", "429", "503"} <= set(operation["responses"])
    assert "(copy)" in operation["description"]


# --- API: publishing checks --------------------------------------------------------------------


def test_publishing_a_survey_without_questions_answers_422_naming_questions(api: Api) -> None:
    survey = api.create(kind="survey")
    body = assert_problem(api.post(f"/campaigns/{survey['id']}/publish"), 422)
    assert list(body["errors"]) == ["questions"]
    assert body["detail"] == "A survey needs at least one question before it goes live."
    assert api.get(f"/campaigns/{survey['id']}").get_json()["status"] == "draft"


def test_publishing_a_game_without_a_prize_answers_422_naming_prizes(api: Api) -> None:
    game = api.create(kind="instant_win")
    body = assert_problem(api.post(f"/campaigns/{game['id']}/publish"), 422)
    assert list(body["errors"]) == ["prizes"]
    assert "prize" in body["errors"]["prizes"][0]
    campaign = db.session.get(Campaign, int(game["id"]))
    assert campaign is not None
    instant_win.add_prize(campaign, {"name": "Mug", "chance": "5", "inventory": 3})
    assert api.ok("POST", f"/campaigns/{game['id']}/publish")["status"] == "live"


def test_the_document_names_the_new_publishing_checks(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/api/v1/campaigns/{campaign_id}/publish"]["post"]
    assert "`questions`" in operation["description"] and "`prizes`" in operation["description"]
    assert "422" in operation["responses"]


# --- admin: duplicate --------------------------------------------------------------------------


def test_an_editor_duplicates_a_campaign_and_lands_on_the_copy(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    marketer, workspace = login_as("editor")
    source = factory.campaign(workspace, name="Autumn draw", slug="autumn", status="closed")
    add_rule(source, {"event": "purchase", "level": 1, "reward": "points", "amount": 5})
    page = f"/admin/campaigns/{source.id}"
    assert f'action="{page}/duplicate"' in text(browser.client.get(page))

    response = browser.post(f"{page}/duplicate", form_page=page)

    assert response.status_code == 302
    copy = db.session.scalars(select(Campaign).where(Campaign.slug == "autumn-copy")).one()
    assert response.headers["Location"] == f"/admin/campaigns/{copy.id}"
    assert (copy.status, copy.name) == ("draft", "Autumn draw (copy)")
    shown = text(browser.client.get(response.headers["Location"]))
    assert "Campaign “Autumn draw (copy)” created as a draft." in shown
    assert len(copy.rules) == 1
    assert "level 1 gets 5 points" in shown, shown[shown.find("campaign-rules") :][:400]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.duplicated")
    ).one()
    assert (entry.marketer_id, entry.subject) == (marketer.id, f"campaign:{copy.id}")
    assert entry.data["source_id"] == source.id


def test_a_viewer_is_offered_no_duplicate_and_is_refused_one(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    source = factory.campaign(workspace)
    page = f"/admin/campaigns/{source.id}"
    assert f"{page}/duplicate" not in text(browser.client.get(page))
    assert browser.post(f"{page}/duplicate", form_page=page).status_code == 403
    assert campaigns_in(workspace.id) == 1


def test_a_duplicate_without_csrf_token_makes_nothing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    source = factory.campaign(workspace)
    browser.client.post(f"/admin/campaigns/{source.id}/duplicate")
    assert campaigns_in(workspace.id) == 1


def test_another_workspaces_campaign_is_404_to_duplicate(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    login_as("owner")
    theirs = factory.campaign(factory.workspace())
    response = browser.post(f"/admin/campaigns/{theirs.id}/duplicate")
    assert response.status_code == 404
    assert campaigns_in(theirs.workspace_id) == 1


# --- admin: close after a confirmation ---------------------------------------------------------


def test_close_asks_first_and_says_what_closing_a_draw_freezes(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    draw = factory.campaign(workspace, kind="lottery")
    publish_campaign(draw)
    page = f"/admin/campaigns/{draw.id}"
    overview = text(browser.client.get(page))
    assert f'href="{page}/close"' in overview
    assert f'action="{page}/close"' not in overview  # no button that closes at once

    asked = browser.client.get(f"{page}/close")

    assert asked.status_code == 200
    shown = text(asked)
    assert "Closing cannot be undone." in shown
    assert "No one can join any more" in shown
    assert "The entries freeze" in shown
    assert "Sign-ups held for review or not yet confirmed get no entry." in shown
    assert "Rewards already earned stay as they are" in shown
    assert f'action="{page}/close"' in shown
    assert reload(draw.id).status == "live"  # asking changed nothing

    closed = browser.post(f"{page}/close", form_page=f"{page}/close")
    assert closed.status_code == 302
    assert reload(draw.id).status == "closed"
    assert reload(draw.id).settings["entries_digest"]


def test_the_confirmation_says_what_closing_does_to_each_kind(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    said = {
        "survey": "No more answers are taken.",
        "instant_win": "The game is closed.",
        "trial": "Free trials already running go on to their end",
    }
    for kind, line in said.items():
        campaign = factory.campaign(workspace, kind=kind, status="live")
        shown = text(browser.client.get(f"/admin/campaigns/{campaign.id}/close"))
        assert line in shown, kind
        assert "The entries freeze" not in shown, kind


def test_the_confirmation_of_a_draft_offers_no_close(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    draft = factory.campaign(workspace)
    page = f"/admin/campaigns/{draft.id}/close"
    shown = text(browser.client.get(page))
    assert "Only a live campaign can be closed; this campaign is Draft." in shown
    assert f'action="{page}"' not in shown


def test_a_viewer_cannot_open_the_close_confirmation(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live")
    assert browser.client.get(f"/admin/campaigns/{campaign.id}/close").status_code == 403
    assert f"/admin/campaigns/{campaign.id}/close" not in text(
        browser.client.get(f"/admin/campaigns/{campaign.id}")
    )


# --- admin: publishing checks ------------------------------------------------------------------


def test_publishing_an_empty_survey_shows_the_page_again_with_the_reason(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    survey = factory.campaign(workspace, kind="survey")
    page = f"/admin/campaigns/{survey.id}"
    response = browser.post(f"{page}/publish", form_page=page)
    assert response.status_code == 422
    shown = text(response)
    assert "A survey needs at least one question before it goes live." in shown
    assert "Still missing" not in shown
    assert reload(survey.id).status == "draft"
    survey_builder.add_question(reload(survey.id), {"kind": "nps", "prompt": "Recommend us?"})
    assert browser.post(f"{page}/publish", form_page=page).status_code == 302
    assert reload(survey.id).status == "live"


def test_publishing_a_game_without_prizes_shows_the_page_again_with_the_reason(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    game = factory.campaign(workspace, kind="instant_win")
    page = f"/admin/campaigns/{game.id}"
    response = browser.post(f"{page}/publish", form_page=page)
    assert response.status_code == 422
    assert "An instant-win game needs a prize that can be won" in text(response)
    assert reload(game.id).status == "draft"


# --- the draw's public page: sign-ups held for review -----------------------------------------


def test_the_rules_page_of_a_draw_says_how_many_sign_ups_are_held_for_review(
    client: FlaskClient, factory: Factory
) -> None:
    draw = factory.campaign(kind="lottery", slug="held-draw")
    publish_campaign(draw)
    assert 'data-testid="held-for-review"' not in text(client.get("/c/held-draw/rules"))
    for _ in range(3):
        factory.participation(draw, status="flagged")
    factory.participation(draw, status="confirmed")
    counters.reconcile(draw.id)
    shown = text(client.get("/c/held-draw/rules"))
    assert "3 sign-ups are held for review and hold no entry yet." in shown
