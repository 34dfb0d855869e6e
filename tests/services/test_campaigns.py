"""Campaign use cases, called as the admin, the API and the CLI call them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, RewardRule, Workspace
from referral.services.campaigns import (
    CampaignClosed,
    campaign_overview,
    ceiling,
    close_campaign,
    create_campaign,
    list_campaigns,
    publish_campaign,
    update_campaign,
)
from tests.factories import LOTTERY_RULES, Factory

NOW = datetime.now(UTC)


def campaigns_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign)) or 0


def test_the_ceiling_comes_from_the_configuration(app) -> None:
    assert ceiling() == 2
    app.config["REFERRAL_MAX_REWARD_DEPTH"] = 1
    assert ceiling() == 1


def test_a_new_campaign_is_a_draft_with_defaults(factory: Factory) -> None:
    workspace = factory.workspace()
    campaign = create_campaign(workspace, {"name": "  Spring  ", "kind": "survey"})
    db.session.expire_all()
    assert campaign.workspace_id == workspace.id
    assert (campaign.name, campaign.kind, campaign.status) == ("Spring", "survey", "draft")
    assert (campaign.reward_depth, campaign.attribution_days, campaign.hold_days) == (1, 30, 0)
    assert campaign.slug == "spring"
    assert campaign.locales == ["en"]


def test_a_slug_made_from_a_taken_name_gets_a_suffix(factory: Factory) -> None:
    workspace = factory.workspace()
    first = create_campaign(workspace, {"name": "Spring", "kind": "referral"})
    second = create_campaign(factory.workspace(), {"name": "Spring", "kind": "referral"})
    assert first.slug == "spring"
    assert second.slug.startswith("spring-") and second.slug != first.slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Café Crème Week!", "cafe-creme-week"), ("  Spring   Bikes 2026 ", "spring-bikes-2026")],
)
def test_a_campaign_without_a_slug_gets_one_made_from_its_name(
    factory: Factory, name: str, slug: str
) -> None:
    campaign = create_campaign(factory.workspace(), {"name": name, "kind": "referral", "slug": ""})
    assert campaign.slug == slug


def test_a_depth_above_the_ceiling_names_the_setting(factory: Factory) -> None:
    """Does a marketer asking for 3 levels learn why not? The reason names the server's limit."""
    with pytest.raises(ValidationFailed) as raised:
        create_campaign(factory.workspace(), {"name": "x", "kind": "referral", "reward_depth": 3})
    [reason] = raised.value.errors["reward_depth"]
    assert "above this server's ceiling of 2 levels" in reason
    assert "REFERRAL_MAX_REWARD_DEPTH" in reason
    assert campaigns_stored() == 0


def test_a_name_without_latin_letters_still_gets_a_slug(factory: Factory) -> None:
    campaign = create_campaign(factory.workspace(), {"name": "春季活动", "kind": "referral"})
    assert campaign.slug == "campaign"


def test_every_bad_field_is_named_at_once_and_nothing_is_stored(factory: Factory) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create_campaign(
            factory.workspace(),
            {
                "name": "",
                "kind": "pyramid",
                "slug": "Bad Slug",
                "reward_depth": 3,
                "attribution_days": 0,
                "locales": ["xx"],
            },
        )
    assert set(raised.value.errors) == {
        "name",
        "kind",
        "slug",
        "reward_depth",
        "attribution_days",
        "locales",
    }
    assert campaigns_stored() == 0


def test_a_taken_slug_is_refused(factory: Factory) -> None:
    factory.campaign(slug="taken")
    with pytest.raises(ValidationFailed) as raised:
        create_campaign(factory.workspace(), {"name": "x", "kind": "referral", "slug": "taken"})
    assert list(raised.value.errors) == ["slug"]
    assert campaigns_stored() == 1


def test_a_campaign_cannot_end_before_it_starts(factory: Factory) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create_campaign(
            factory.workspace(),
            {"name": "x", "kind": "referral", "starts_at": NOW, "ends_at": NOW},
        )
    assert list(raised.value.errors) == ["ends_at"]


def test_the_reward_depth_follows_a_lowered_ceiling(app, factory: Factory) -> None:
    app.config["REFERRAL_MAX_REWARD_DEPTH"] = 0
    with pytest.raises(ValidationFailed) as raised:
        create_campaign(factory.workspace(), {"name": "x", "kind": "referral", "reward_depth": 1})
    assert "ceiling of 0" in raised.value.errors["reward_depth"][0]
    assert (
        create_campaign(
            factory.workspace(), {"name": "y", "kind": "referral", "reward_depth": 0}
        ).reward_depth
        == 0
    )


def test_official_rules_given_at_creation_are_kept(factory: Factory) -> None:
    campaign = create_campaign(
        factory.workspace(), {"name": "Draw", "kind": "lottery", "rules": dict(LOTTERY_RULES)}
    )
    assert campaign.settings["rules"]["sponsor"] == "Example B.V."


# Update


def test_an_update_changes_only_the_given_fields(factory: Factory) -> None:
    campaign = factory.campaign(name="Before", description="Kept", hold_days=7)
    update_campaign(campaign, {"name": "After"})
    db.session.expire_all()
    assert (campaign.name, campaign.description, campaign.hold_days) == ("After", "Kept", 7)


def test_an_update_never_changes_the_kind(factory: Factory) -> None:
    campaign = factory.campaign(kind="survey")
    with pytest.raises(ValidationFailed) as raised:
        update_campaign(campaign, {"kind": "lottery", "name": "Sneaky"})
    assert list(raised.value.errors) == ["kind"]
    db.session.expire_all()
    assert campaign.kind == "survey"
    assert campaign.name != "Sneaky"


def test_an_update_ignores_fields_that_are_not_editable(factory: Factory) -> None:
    campaign = factory.campaign(status="draft")
    update_campaign(campaign, {"status": "live", "workspace_id": 999, "published_at": NOW})
    db.session.expire_all()
    assert campaign.status == "draft"
    assert campaign.published_at is None


def test_a_closed_campaign_is_read_only_with_one_conflict_for_every_caller(
    factory: Factory,
) -> None:
    """The admin and the API ask the same service, so they answer the same 409."""
    campaign = factory.campaign(status="closed", name="Done")
    with pytest.raises(CampaignClosed, match="closed campaign") as raised:
        update_campaign(campaign, {"name": "Again"})
    assert isinstance(raised.value, Conflict) and raised.value.status == 409
    db.session.expire_all()
    assert campaign.name == "Done"


def test_new_dates_are_checked_against_the_stored_ones(factory: Factory) -> None:
    campaign = factory.campaign(starts_at=NOW, ends_at=NOW + timedelta(days=10))
    with pytest.raises(ValidationFailed) as raised:
        update_campaign(campaign, {"ends_at": NOW - timedelta(days=1)})
    assert list(raised.value.errors) == ["ends_at"]


def test_the_depth_cannot_drop_below_a_rule_that_pays_deeper(factory: Factory) -> None:
    campaign = factory.campaign(reward_depth=2)
    db.session.add(
        RewardRule(campaign_id=campaign.id, event="purchase", level=2, reward="points", amount=1)
    )
    db.session.commit()
    with pytest.raises(ValidationFailed) as raised:
        update_campaign(campaign, {"reward_depth": 1, "name": "Half done?"})
    assert list(raised.value.errors) == ["reward_depth"]
    assert "Some reward rules pay deeper than this" in raised.value.errors["reward_depth"][0]
    db.session.expire_all()
    assert campaign.reward_depth == 2
    assert campaign.name != "Half done?"


def test_the_depth_may_drop_to_the_deepest_rule(factory: Factory) -> None:
    campaign = factory.campaign(reward_depth=2)
    db.session.add(
        RewardRule(
            campaign_id=campaign.id, event="signup_confirmed", level=1, reward="points", amount=5
        )
    )
    db.session.commit()
    update_campaign(campaign, {"reward_depth": 1})
    db.session.expire_all()
    assert campaign.reward_depth == 1


def test_official_rules_are_frozen_once_published(factory: Factory) -> None:
    campaign = factory.campaign(kind="lottery", status="live")
    with pytest.raises(ValidationFailed) as raised:
        update_campaign(campaign, {"rules": {**LOTTERY_RULES, "winners": 5}})
    assert list(raised.value.errors) == ["rules"]
    db.session.expire_all()
    assert campaign.settings["rules"]["winners"] == 1


def test_a_refused_update_leaves_nothing_behind_for_a_later_commit(factory: Factory) -> None:
    """A bad request changes nothing (invariant 6): not even in the session, where the next
    commit of the same unit of work (a CLI loop, a job) would write it."""
    campaign = factory.campaign(kind="lottery", status="live", name="Before")
    with pytest.raises(ValidationFailed):
        update_campaign(campaign, {"name": "Half applied", "rules": dict(LOTTERY_RULES)})
    db.session.commit()
    db.session.expire_all()
    assert campaign.name == "Before"


def test_a_draft_can_complete_its_official_rules(factory: Factory) -> None:
    campaign = factory.campaign(kind="lottery", settings={"rules": {"sponsor": "Me"}})
    update_campaign(campaign, {"rules": dict(LOTTERY_RULES)})
    publish_campaign(campaign)
    assert campaign.status == "live"


# Publish and close


def test_publishing_stamps_the_time_and_only_drafts_can_be_published(factory: Factory) -> None:
    campaign = factory.campaign()
    publish_campaign(campaign)
    assert campaign.status == "live"
    assert campaign.published_at is not None
    with pytest.raises(Conflict):
        publish_campaign(campaign)


def test_a_lottery_without_rules_names_every_missing_field(factory: Factory) -> None:
    campaign = factory.campaign(kind="lottery", settings={})
    with pytest.raises(ValidationFailed) as raised:
        publish_campaign(campaign)
    assert "rules.sponsor" in raised.value.errors
    assert "rules.free_entry_method" in raised.value.errors
    db.session.expire_all()
    assert campaign.status == "draft"
    assert campaign.published_at is None


def test_only_live_campaigns_close(factory: Factory) -> None:
    draft = factory.campaign()
    with pytest.raises(Conflict):
        close_campaign(draft)
    live = factory.campaign(status="live")
    close_campaign(live)
    assert live.status == "closed"
    assert live.closed_at is not None
    with pytest.raises(Conflict):
        close_campaign(live)


# Lists and counts


def test_the_list_is_the_workspaces_newest_first_with_counts(factory: Factory) -> None:
    workspace = factory.workspace()
    older = factory.campaign(workspace, created_at=NOW - timedelta(days=2))
    newer = factory.campaign(workspace, created_at=NOW - timedelta(days=1))
    factory.campaign(factory.workspace())
    factory.participation(older, status="confirmed", confirmed_at=NOW)
    factory.participation(older)
    rows = list_campaigns(workspace.id)
    assert [(c.id, n, k) for c, n, k in rows] == [(newer.id, 0, 0), (older.id, 2, 1)]


def test_the_overview_of_an_empty_campaign_is_all_zeroes(factory: Factory) -> None:
    campaign = factory.campaign()
    factory.participation(factory.campaign(db.session.get(Workspace, campaign.workspace_id)))
    assert set(campaign_overview(campaign).values()) == {0}


def test_the_overview_counts_by_status_and_referral(factory: Factory) -> None:
    campaign = factory.campaign()
    root = factory.participation(campaign, status="confirmed", confirmed_at=NOW)
    factory.participation(campaign, referrer=root, status="flagged")
    factory.participation(campaign, referrer=root)
    factory.participation(campaign, status="rejected")
    assert campaign_overview(campaign) == {
        "participants": 4,
        "confirmed": 1,
        "pending": 1,
        "flagged": 1,
        "rejected": 1,
        "referred": 2,
    }
