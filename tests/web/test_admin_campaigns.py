"""The campaign pages of /admin: list, create, edit, publish, close, overview."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import Campaign, RewardRule
from tests.conftest import Browser
from tests.factories import LOTTERY_RULES, Factory

NOW = datetime.now(UTC)


def campaign_form(**overrides: Any) -> dict[str, Any]:
    """Every field of the campaign form, filled in as a person would."""
    data: dict[str, Any] = {
        "name": "Summer giveaway",
        "kind": "referral",
        "slug": "summer-giveaway",
        "description": "Bring a friend.",
        "reward_depth": "1",
        "attribution_days": "30",
        "hold_days": "0",
        "starts_at": "",
        "ends_at": "",
        "locales": ["en"],
    }
    data.update(overrides)
    return data


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign)) or 0


def reload(campaign: Campaign) -> Campaign:
    """The campaign as the database has it now (requests run in their own sessions)."""
    db.session.expire_all()
    found = db.session.get(Campaign, campaign.id)
    assert found is not None
    return found


def stat(page: str, label: str) -> int:
    match = re.search(
        rf'<span class="stat-value">(\d+)</span><span class="stat-label">{label}</span>', page
    )
    assert match, f"no {label!r} figure on the page"
    return int(match.group(1))


# List


def test_the_list_shows_only_campaigns_of_the_marketers_workspace(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    ours = factory.campaign(workspace, name="Our spring draw")
    theirs = factory.campaign(factory.workspace(), name="Their secret launch")
    page = page_text(browser.client.get("/admin/campaigns"))
    assert ours.name in page
    assert ours.slug in page
    assert theirs.name not in page
    assert theirs.slug not in page


def test_an_empty_workspace_invites_an_editor_to_create_a_first_campaign(
    browser: Browser, login_as: Any
) -> None:
    login_as("editor")
    page = page_text(browser.client.get("/admin/campaigns"))
    assert "No campaigns yet." in page
    assert "/admin/campaigns/new" in page


def test_the_list_counts_participants_and_confirmed_per_campaign(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace)
    factory.participation(campaign, status="confirmed", confirmed_at=NOW)
    factory.participation(campaign)
    factory.participation(campaign)
    page = browser.client.get("/admin/campaigns").get_data(as_text=True)
    cells = re.findall(r'<td class="num">(\d+)</td>', page)
    assert cells == ["3", "1"]


# Create


def test_creating_a_campaign_redirects_to_its_overview_and_lists_it(
    browser: Browser, login_as: Any
) -> None:
    _, workspace = login_as("editor")
    response = browser.post(
        "/admin/campaigns/new", campaign_form(), form_page="/admin/campaigns/new"
    )
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "summer-giveaway"))
    assert campaign is not None
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"
    assert campaign.workspace_id == workspace.id
    assert campaign.status == "draft"
    assert campaign.kind == "referral"
    assert campaign.reward_depth == 1
    overview = page_text(browser.client.get(response.headers["Location"]))
    assert "Campaign “Summer giveaway” created as a draft." in overview
    assert "Summer giveaway" in page_text(browser.client.get("/admin/campaigns"))


# One case of each rule; their variations: tests/unit/test_forms.py (the form's own)
# and tests/unit/test_campaigns.py (the campaign's).
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"slug": "Not A Slug!"}, "Use 1 to 64 lower-case letters, digits and dashes"),
        ({"reward_depth": "3"}, "above this server's ceiling of 2 levels"),
        ({"reward_depth": "-1"}, "Number must be between 0 and 3."),
        (
            {"starts_at": "2026-06-01T09:00", "ends_at": "2026-05-01T09:00"},
            "The end must come after the start.",
        ),
        ({"locales": ["xx"]}, "'xx' is not a valid choice"),
    ],
)
def test_an_invalid_campaign_re_renders_the_form_with_the_reason_and_stores_nothing(
    browser: Browser, login_as: Any, overrides: dict[str, Any], message: str
) -> None:
    login_as("editor")
    response = browser.post(
        "/admin/campaigns/new", campaign_form(**overrides), form_page="/admin/campaigns/new"
    )
    assert response.status_code == 422
    page = page_text(response)
    assert message in page
    assert 'name="csrf_token"' in page  # the form itself, ready to correct
    assert campaign_count() == 0


def test_a_slug_taken_by_any_workspace_is_refused(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    """Slugs are global (``/c/<slug>`` has no workspace in it), so another brand's counts."""
    login_as("editor")
    factory.campaign(factory.workspace(), slug="summer-giveaway")
    response = browser.post(
        "/admin/campaigns/new", campaign_form(), form_page="/admin/campaigns/new"
    )
    assert response.status_code == 422
    assert "This address is already taken; choose another." in page_text(response)
    assert campaign_count() == 1


def test_a_depth_above_the_ceiling_refused_by_the_form_is_audited(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    from referral.models import AuditEntry

    marketer, workspace = login_as("owner")
    campaign = factory.campaign(workspace, name="Autumn tasting")
    response = browser.post(
        "/admin/campaigns/new", campaign_form(reward_depth="3"), form_page="/admin/campaigns/new"
    )
    assert response.status_code == 422
    edit = f"/admin/campaigns/{campaign.id}/edit"
    data = campaign_form(name="Autumn tasting", slug=campaign.slug, reward_depth="3")
    assert browser.post(edit, data, form_page=edit).status_code == 422
    db.session.expire_all()
    refused = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "reward_depth.refused")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.subject, e.marketer_id, e.outcome) for e in refused] == [
        ("campaign:new", marketer.id, "denied"),
        (f"campaign:{campaign.id}", marketer.id, "denied"),
    ]
    assert all(e.workspace_id == workspace.id and e.ip_hash for e in refused)
    assert [(e.data["requested"], e.data["allowed"]) for e in refused] == [(3, 2), (3, 2)]
    assert campaign_count() == 1 and reload(campaign).reward_depth == 1


def test_closing_a_prize_draw_whose_rule_sells_entries_is_refused_with_the_rule(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    from referral.services.campaigns import publish_campaign

    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace, kind="lottery", settings={"rules": LOTTERY_RULES})
    publish_campaign(campaign)
    rule = RewardRule(
        campaign_id=campaign.id, event="purchase", level=0, reward="entries", amount=2
    )
    db.session.add(rule)
    db.session.commit()
    page_path = f"/admin/campaigns/{campaign.id}"
    response = browser.post(f"{page_path}/close", form_page=page_path)
    assert response.status_code == 302
    page = page_text(browser.client.get(response.headers["Location"]))
    assert f"Reward rule {rule.id} gives draw entries for purchase" in page
    assert "Still missing" not in page
    assert reload(campaign).status == "live"


def test_a_create_post_without_csrf_token_stores_nothing(browser: Browser, login_as: Any) -> None:
    login_as("owner")
    response = browser.client.post("/admin/campaigns/new", data=campaign_form())
    assert response.status_code in (400, 422)
    assert campaign_count() == 0


# Edit
# The kind, the own or another's slug and lowering the depth below a rule, or to it:
# tests/services/test_campaigns.py and test_campaign_lifecycle.py. Here: the form saves or
# shows why not.


def test_editing_saves_the_changes(browser: Browser, login_as: Any, factory: Factory) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, name="Old name", slug="old-name")
    response = browser.post(
        f"/admin/campaigns/{campaign.id}/edit",
        campaign_form(
            name="New name",
            slug="new-name",
            reward_depth="2",
            hold_days="14",
            starts_at="2026-06-01T09:00",
            ends_at="2026-07-01T09:00",
            locales=["en", "de"],
            kind="lottery",  # the kind cannot change: it is ignored, the rest saved
        ),
        form_page=f"/admin/campaigns/{campaign.id}/edit",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"
    saved = reload(campaign)
    assert saved.kind == "referral"
    assert (saved.name, saved.slug, saved.reward_depth, saved.hold_days) == (
        "New name",
        "new-name",
        2,
        14,
    )
    assert (
        saved.starts_at is not None and saved.starts_at.isoformat() == "2026-06-01T09:00:00+00:00"
    )
    assert saved.locales == ["en", "de"]


def test_the_edit_form_shows_the_current_values(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, name="Autumn tasting", reward_depth=2)
    page = page_text(browser.client.get(f"/admin/campaigns/{campaign.id}/edit"))
    assert 'value="Autumn tasting"' in page
    assert re.search(r'name="reward_depth"[^>]*value="2"', page)


def test_a_closed_campaign_cannot_be_edited(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace, status="closed", name="Finished")
    response = browser.post(
        f"/admin/campaigns/{campaign.id}/edit",
        campaign_form(name="Reopened?", slug=campaign.slug),
        form_page=f"/admin/campaigns/{campaign.id}/edit",
    )
    assert response.status_code == 409  # the same conflict as the API's
    assert "A closed campaign can no longer be changed." in page_text(response)
    assert reload(campaign).name == "Finished"
    overview = page_text(browser.client.get(f"/admin/campaigns/{campaign.id}"))
    assert f"/admin/campaigns/{campaign.id}/edit" not in overview


# Publish and close


def test_publishing_a_draft_makes_it_live(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace)
    response = browser.post(f"/admin/campaigns/{campaign.id}/publish")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"
    saved = reload(campaign)
    assert saved.status == "live"
    assert saved.published_at is not None
    assert "The campaign is live." in page_text(browser.client.get(response.headers["Location"]))


def test_a_lottery_without_official_rules_stays_a_draft_and_names_what_is_missing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    rules = dict(LOTTERY_RULES)
    del rules["sponsor"]
    del rules["free_entry_method"]
    campaign = factory.campaign(workspace, kind="lottery", settings={"rules": rules})
    response = browser.post(f"/admin/campaigns/{campaign.id}/publish")
    assert response.status_code == 422  # the campaign page again, saying what is missing
    assert reload(campaign).status == "draft"
    page = page_text(response)
    assert "A prize draw needs its official rules before it opens." in page
    assert "Still missing: sponsor, free_entry_method" in page


def test_closing_a_live_campaign_closes_it(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, status="live")
    response = browser.post(f"/admin/campaigns/{campaign.id}/close")
    assert response.status_code == 302
    saved = reload(campaign)
    assert saved.status == "closed"
    assert saved.closed_at is not None
    assert "The campaign is closed." in page_text(
        browser.client.get(f"/admin/campaigns/{campaign.id}")
    )


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("draft", "close", "Only a live campaign can be closed; this campaign is draft."),
        # Every wrong status: tests/unit/test_campaigns.py.
    ],
)
def test_a_transition_from_the_wrong_status_is_refused_with_a_reason(
    browser: Browser, login_as: Any, factory: Factory, status: str, action: str, message: str
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, status=status)
    response = browser.post(f"/admin/campaigns/{campaign.id}/{action}")
    assert response.status_code == 302
    assert reload(campaign).status == status
    assert message in page_text(browser.client.get(f"/admin/campaigns/{campaign.id}"))


def test_a_publish_without_csrf_token_changes_nothing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace)
    browser.client.post(f"/admin/campaigns/{campaign.id}/publish")
    assert reload(campaign).status == "draft"


# Overview (the counts, an empty campaign's zeroes: tests/services/test_campaigns.py)


def test_the_overview_counts_participants_confirmed_and_referred(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace)
    root = factory.participation(campaign, status="confirmed", confirmed_at=NOW)
    child = factory.participation(campaign, referrer=root, status="confirmed", confirmed_at=NOW)
    factory.participation(campaign, referrer=child)
    factory.participation(campaign, referrer=root, status="flagged")
    factory.participation(campaign)
    factory.participation(factory.campaign(workspace))  # another campaign: not counted
    page = browser.client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert stat(page, "Participants") == 5
    assert stat(page, "Confirmed") == 2
    assert stat(page, "Came through a referral") == 3
    assert stat(page, "Flagged for review") == 1


def test_the_overview_of_a_campaign_that_does_not_exist_is_404(
    browser: Browser, login_as: Any
) -> None:
    login_as("owner")
    assert browser.client.get("/admin/campaigns/999999").status_code == 404
