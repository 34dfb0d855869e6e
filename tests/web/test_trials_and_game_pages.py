"""Free trials and the instant-win game on the web: admin pages and public pages (the reminder
command is in tests/test_cli.py)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import InstantWinPlay, LedgerEntry
from referral.services import instant_win, trials
from referral.services.advocates import advocate_token
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.conftest import csrf_from
from tests.factories import Factory


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model: Any, *where: Any) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def join(campaign, email, code=None, **kw):
    return join_campaign(campaign, JoinRequest(email=email, referral_code=code, **kw), Visitor())


# --- free trials in the admin ----------------------------------------------------------------


def test_the_campaign_page_shows_the_trial_funnel(login_as, factory: Factory, client) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, kind="trial", status="live")
    join(campaign, "pending@example.com")
    join(campaign, "converted@example.com", confirmed=True)
    trials.convert_by_marketer(campaign, trials.list_trials(campaign)[0].participation, None)
    page = text_of(client.get(f"/admin/campaigns/{campaign.id}"))
    assert 'data-testid="trial-signed-up">2<' in page
    assert 'data-testid="trial-confirmed">1<' in page
    assert 'data-testid="trial-active">1<' in page
    assert 'data-testid="trial-converted">1<' in page
    assert f"/admin/campaigns/{campaign.id}/trials" in page


def test_a_marketer_converts_a_trial_and_the_referrer_is_paid_once(
    login_as, factory: Factory, browser, client
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="trial", status="live")
    add_rule(campaign, {"event": "trial_converted", "level": 1, "reward": "points", "amount": 300})
    advocate = join(campaign, "adv@example.com", confirmed=True).participation
    friend = join(campaign, "friend@example.com", advocate.referral_code, confirmed=True)
    page = f"/admin/campaigns/{campaign.id}/trials"
    assert "friend@example.com" in text_of(client.get(page))
    url = f"{page}/{friend.participation.id}/convert"
    first = browser.post(url, form_page=page)
    assert first.status_code == 302
    again = browser.post(url, form_page=page)
    assert again.status_code == 302
    assert "already converted" in text_of(client.get(page))
    assert count(LedgerEntry, LedgerEntry.participation_id == advocate.id) == 1


def test_a_viewer_cannot_convert_a_trial(login_as, factory: Factory, browser) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, kind="trial", status="live")
    person = join(campaign, "p@example.com", confirmed=True).participation
    page = f"/admin/campaigns/{campaign.id}/trials"
    response = browser.post(f"{page}/{person.id}/convert", form_page=page)
    assert response.status_code == 403


def test_another_workspaces_trial_pages_answer_404(login_as, factory: Factory, browser, client):
    login_as("owner")
    other = factory.campaign(kind="trial", status="live")
    person = join(other, "p@example.com", confirmed=True).participation
    assert client.get(f"/admin/campaigns/{other.id}/trials").status_code == 404
    response = browser.post(f"/admin/campaigns/{other.id}/trials/{person.id}/convert")
    assert response.status_code == 404
    assert count(LedgerEntry) == 0


def test_trial_settings_are_saved_or_refused_with_a_clear_message(
    login_as, factory: Factory, browser, client
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="trial")
    page = f"/admin/campaigns/{campaign.id}/trials"
    url = f"{page}/settings"
    bad = browser.post(url, {"days": "7", "reminder_days": "7"}, form_page=page)
    assert bad.status_code == 422
    assert "The reminder must come before the trial ends." in text_of(bad)
    nonsense = browser.post(url, {"days": "x", "reminder_days": ""}, form_page=page)
    assert nonsense.status_code == 422
    good = browser.post(url, {"days": "30", "reminder_days": "5"}, form_page=page)
    assert good.status_code == 302
    db.session.refresh(campaign)
    assert trials.trial_settings(campaign).days == 30


# --- free trials in public -------------------------------------------------------------------


def test_the_landing_page_offers_the_trial_length(factory: Factory, client) -> None:
    campaign = factory.campaign(kind="trial", status="live")
    trials.update_trial_settings(campaign, 21, 3)
    page = text_of(client.get(f"/c/{campaign.slug}"))
    assert "Try it free for 21 days" in page


def test_the_trial_page_shows_the_end_date(factory: Factory, client, app) -> None:
    campaign = factory.campaign(kind="trial", status="live")
    person = join(campaign, "p@example.com", confirmed=True).participation
    with app.test_request_context():
        token = advocate_token(person)
    page = text_of(client.get(f"/trial/{token}"))
    assert "14 days left" in page or "13 days left" in page
    assert client.get(f"/trial/{token}x").status_code == 404


# --- the instant-win game --------------------------------------------------------------------


@pytest.fixture
def game(factory: Factory):
    campaign = factory.campaign(kind="instant_win", status="live")
    instant_win.add_prize(campaign, {"name": "Coffee mug", "chance": "2.5", "inventory": 10})
    return campaign


def player_url(app, person) -> str:
    with app.test_request_context():
        return f"/play/{advocate_token(person)}"


def test_the_game_page_shows_the_odds(app, factory: Factory, game, client) -> None:
    person = factory.participation(game, status="confirmed")
    page = text_of(client.get(player_url(app, person)))
    assert "Coffee mug" in page
    assert "2.5 percent (1 in 40)" in page
    assert "10 of 10" in page
    assert "97.5 percent" in page
    assert "You have 1 play left." in page
    assert "You have won" not in page


def test_a_play_answers_the_stored_outcome(app, factory: Factory, game, client) -> None:
    person = factory.participation(game, status="confirmed")
    url = player_url(app, person)
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert response.status_code == 201
    body = response.get_json()
    db.session.commit()
    play = db.session.get(InstantWinPlay, body["play_id"])
    assert body["won"] == (play.prize_id is not None)
    assert ("You have won" in body["message"]) == body["won"]
    assert body["plays_left"] == 0
    again = client.post(url, data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert again.status_code == 409
    assert "No plays left" in again.get_json()["message"]
    assert count(InstantWinPlay) == 1


def test_a_play_without_script_shows_the_outcome_of_the_stored_play(
    app, factory: Factory, client
) -> None:
    campaign = factory.campaign(kind="instant_win", status="live")
    instant_win.add_prize(campaign, {"name": "Tote bag", "chance": "100", "inventory": 1})
    person = factory.participation(campaign, status="confirmed")
    url = player_url(app, person)
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert "You have won: Tote bag!" in page
    db.session.commit()
    play_id = db.session.scalar(select(InstantWinPlay.id))
    other = factory.participation(campaign, status="confirmed")
    foreign = text_of(client.get(player_url(app, other) + f"?play={play_id}"))
    assert "You have won" not in foreign  # nobody sees a win that is not their own


def test_a_pending_participant_is_asked_to_confirm_first(app, factory: Factory, game, client):
    person = factory.participation(game, status="pending")
    url = player_url(app, person)
    page = client.get(url)
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 409
    assert "confirm your e-mail address" in text_of(response)
    assert count(InstantWinPlay) == 0


def test_a_marketer_adds_a_prize_or_is_told_what_is_wrong(
    login_as, factory: Factory, browser, client
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="instant_win", status="live")
    page = f"/admin/campaigns/{campaign.id}/game"
    url = f"{page}/prizes"
    bad = browser.post(url, {"name": "Mug", "chance": "120", "inventory": "3"}, form_page=page)
    assert bad.status_code == 422
    assert "between 0.0001 and 100 percent" in text_of(bad)
    good = browser.post(url, {"name": "Mug", "chance": "12.5", "inventory": "3"}, form_page=page)
    assert good.status_code == 302
    shown = text_of(client.get(page))
    assert "Mug" in shown and "12.5 %" in shown and "87.5 %" in shown


def test_another_workspaces_game_answers_404(login_as, factory: Factory, client) -> None:
    login_as("owner")
    other = factory.campaign(kind="instant_win", status="live")
    assert client.get(f"/admin/campaigns/{other.id}/game").status_code == 404


def test_the_customer_page_converts_a_trial_and_shows_game_plays(
    login_as, factory: Factory, browser, client
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="trial", status="live")
    add_rule(campaign, {"event": "trial_converted", "level": 1, "reward": "points", "amount": 300})
    advocate = join(campaign, "adv@example.com", confirmed=True).participation
    friend = join(campaign, "friend@example.com", advocate.referral_code, confirmed=True)
    page = f"/admin/customers/{friend.participation.customer_id}"
    assert "Mark trial as converted" in text_of(client.get(page))
    url = f"/admin/campaigns/{campaign.id}/trials/{friend.participation.id}/convert?back=customer"
    response = browser.post(url, form_page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    shown = text_of(client.get(page))
    assert "Turned the free trial into a paid plan" in shown
    assert count(LedgerEntry, LedgerEntry.participation_id == advocate.id) == 1


def test_trial_and_game_pages_of_another_kind_say_so_and_refuse_changes(
    login_as, factory: Factory, browser, client
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, status="live")
    person = factory.participation(campaign, status="confirmed")
    assert "is not a free trial" in text_of(client.get(f"/admin/campaigns/{campaign.id}/trials"))
    assert "is not an instant-win game" in text_of(
        client.get(f"/admin/campaigns/{campaign.id}/game")
    )
    page = f"/admin/campaigns/{campaign.id}/game"
    prize = browser.post(
        f"{page}/prizes", {"name": "Mug", "chance": "1", "inventory": "1"}, form_page=page
    )
    assert prize.status_code == 409
    convert = browser.post(
        f"/admin/campaigns/{campaign.id}/trials/{person.id}/convert", form_page=page
    )
    assert convert.status_code == 409
    assert count(LedgerEntry) == 0


def test_a_marketer_switches_a_prize_off_and_on(login_as, factory: Factory, browser) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="instant_win", status="live")
    prize = instant_win.add_prize(campaign, {"name": "Mug", "chance": "60", "inventory": 1})
    page = f"/admin/campaigns/{campaign.id}/game"
    assert browser.post(f"{page}/prizes/{prize.id}/off", form_page=page).status_code == 302
    db.session.refresh(prize)
    assert not prize.active
    instant_win.add_prize(campaign, {"name": "Bag", "chance": "50", "inventory": 1})
    browser.post(f"{page}/prizes/{prize.id}/on", form_page=page)  # 110 percent: refused
    db.session.refresh(prize)
    assert not prize.active
