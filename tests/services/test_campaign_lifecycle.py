"""The campaign rules the API and the admin share, asked of the services directly: what a
create or a change accepts, how a campaign goes live and closes, and how its list pages.

The HTTP shape of the same operations (status codes, problem bodies, JSON times) is in
tests/web/test_api_campaigns.py."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect

from referral.domain.campaigns import LOTTERY_RULE_FIELDS
from referral.domain.errors import Conflict, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.services.campaigns import (
    campaign_page,
    close_campaign,
    create_campaign,
    publish_campaign,
    update_campaign,
)
from tests.factories import LOTTERY_RULES, Factory


def create(workspace: Workspace, **fields: Any) -> Campaign:
    return create_campaign(workspace, {"name": "Spring referral", "kind": "referral", **fields})


def refused(call: Any, *args: Any) -> dict[str, Any]:
    """The fields a refused create or change names."""
    with pytest.raises(ValidationFailed) as raised:
        call(*args)
    return dict(raised.value.errors)


def stored(campaign: Campaign) -> dict[str, Any]:
    """Every column of the campaign as the database holds it now."""
    db.session.rollback()
    db.session.expire_all()
    return {attr.key: getattr(campaign, attr.key) for attr in inspect(Campaign).column_attrs}


def names(workspace: Workspace) -> list[str]:
    return [c.name for c in campaign_page(workspace.id, None, None).items]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- create ----------------------------------------------------------------------------------


def test_a_new_campaign_is_a_draft_with_a_slug_from_its_name(factory: Factory) -> None:
    campaign = create(factory.workspace(), name="Bring a friend")
    assert (campaign.status, campaign.kind, campaign.reward_depth) == ("draft", "referral", 1)
    assert campaign.slug == "bring-a-friend"
    assert campaign.locales == ["en"]
    assert campaign.rules == [] and "rules" not in campaign.settings
    assert campaign.published_at is None and campaign.closed_at is None


def test_times_keep_their_instant_and_a_time_without_offset_is_utc(factory: Factory) -> None:
    workspace = factory.workspace()
    campaign = create(
        workspace, starts_at="2030-05-01T09:00:00+02:00", ends_at="2030-06-01T09:00:00-05:00"
    )
    db.session.expire_all()
    assert campaign.starts_at.astimezone(UTC) == utc("2030-05-01T07:00:00+00:00")
    assert campaign.ends_at.astimezone(UTC) == utc("2030-06-01T14:00:00+00:00")
    naive = create(workspace, name="Naive", starts_at="2030-05-01T09:00:00")
    db.session.expire_all()
    assert naive.starts_at.astimezone(UTC) == utc("2030-05-01T09:00:00+00:00")


def test_every_field_given_on_create_is_kept(factory: Factory) -> None:
    campaign = create_campaign(
        factory.workspace(),
        {
            "name": "Zomeractie",
            "kind": "lottery",
            "slug": "zomer-2030",
            "description": "Win een fiets.",
            "reward_depth": 2,
            "attribution_days": 14,
            "hold_days": 7,
            "locales": ["nl", "en"],
            "rules": LOTTERY_RULES,
        },
    )
    db.session.expire_all()
    assert campaign.slug == "zomer-2030"
    assert campaign.description == "Win een fiets."
    assert (campaign.reward_depth, campaign.attribution_days, campaign.hold_days) == (2, 14, 7)
    assert campaign.locales == ["nl", "en"]
    assert campaign.settings["rules"] == LOTTERY_RULES


def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(
    factory: Factory,
) -> None:
    campaign = create(factory.workspace(), reward_depth=2.0, hold_days=7.0)
    assert (campaign.reward_depth, campaign.hold_days) == (2, 7)


def test_name_and_kind_are_required(factory: Factory) -> None:
    workspace = factory.workspace()
    errors = refused(create_campaign, workspace, {"description": "Nameless"})
    assert set(errors) == {"name", "kind"}
    assert names(workspace) == []


@pytest.mark.parametrize("depth", [3, 10**30])
def test_a_reward_depth_above_the_ceiling_is_refused_with_the_reason(
    factory: Factory, depth: int
) -> None:
    workspace = factory.workspace()
    with pytest.raises(ValidationFailed) as raised:
        create(workspace, name="Deep", reward_depth=depth)
    assert set(raised.value.errors) == {"reward_depth"}
    message = str(raised.value.errors["reward_depth"][0])
    assert "ceiling" in message and "2" in message
    assert names(workspace) == []


def test_the_ceiling_itself_and_a_flat_campaign_are_allowed(factory: Factory) -> None:
    workspace = factory.workspace()
    assert create(workspace, reward_depth=2).reward_depth == 2
    assert create(workspace, name="Flat", reward_depth=0).reward_depth == 0


@pytest.mark.parametrize(
    "ends_at", ["2030-04-30T00:00:00+00:00", "2030-05-01T00:00:00Z", "2030-05-01T01:00+01:00"]
)
def test_an_end_before_or_at_the_start_is_refused(factory: Factory, ends_at: str) -> None:
    workspace = factory.workspace()
    with pytest.raises(ValidationFailed) as raised:
        create(workspace, name="Backwards", starts_at="2030-05-01T00:00:00+00:00", ends_at=ends_at)
    assert set(raised.value.errors) == {"ends_at"}
    assert names(workspace) == []


def test_a_slug_taken_in_any_workspace_is_refused(factory: Factory) -> None:
    """Slugs are global because /c/<slug> carries no workspace."""
    create(factory.workspace(), slug="summer")
    mine = factory.workspace()
    with pytest.raises(ValidationFailed) as raised:
        create(mine, name="Summer", slug="summer")
    assert set(raised.value.errors) == {"slug"}
    assert names(mine) == []


def test_two_campaigns_with_the_same_name_get_different_slugs(factory: Factory) -> None:
    workspace = factory.workspace()
    assert create(workspace, name="Same name").slug != create(workspace, name="Same name").slug


# --- change ----------------------------------------------------------------------------------


def test_a_change_touches_only_the_given_fields(factory: Factory) -> None:
    campaign = create(factory.workspace(), description="Old text", hold_days=3)
    before = stored(campaign)
    update_campaign(campaign, {"name": "Renamed", "reward_depth": 0})
    after = stored(campaign)
    assert (after["name"], after["reward_depth"]) == ("Renamed", 0)
    untouched = ("name", "reward_depth", "updated_at")
    assert {k: v for k, v in after.items() if k not in untouched} == {
        k: v for k, v in before.items() if k not in untouched
    }


def test_an_empty_change_changes_nothing(factory: Factory) -> None:
    campaign = create(factory.workspace())
    before = stored(campaign)
    update_campaign(campaign, {})
    assert stored(campaign) == before


def test_a_change_can_clear_the_end(factory: Factory) -> None:
    campaign = create(
        factory.workspace(), starts_at="2030-01-01T00:00:00Z", ends_at="2030-02-01T00:00:00Z"
    )
    update_campaign(campaign, {"ends_at": None})
    after = stored(campaign)
    assert after["ends_at"] is None and after["starts_at"] is not None


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        pytest.param({"reward_depth": 3}, {"reward_depth"}, id="depth above ceiling"),
        pytest.param({"kind": "survey"}, {"kind"}, id="kind changes"),
        pytest.param({"ends_at": "2029-12-31T00:00:00Z"}, {"ends_at"}, id="end before start"),
    ],
)
def test_a_bad_change_names_each_bad_field_and_changes_nothing(
    factory: Factory, fields: dict[str, Any], bad: set[str]
) -> None:
    campaign = create(factory.workspace(), starts_at="2030-01-01T00:00:00Z")
    before = stored(campaign)
    assert set(refused(update_campaign, campaign, fields)) == bad
    assert stored(campaign) == before


def test_a_change_cannot_take_a_slug_in_use_elsewhere(factory: Factory) -> None:
    create(factory.workspace(), slug="taken")
    mine = create(factory.workspace(), slug="mine")
    assert set(refused(update_campaign, mine, {"slug": "taken"})) == {"slug"}
    assert stored(mine)["slug"] == "mine"


def test_a_change_may_keep_the_campaigns_own_slug_and_kind(factory: Factory) -> None:
    mine = create(factory.workspace(), slug="mine")
    update_campaign(mine, {"slug": "mine", "kind": "referral"})
    assert (stored(mine)["slug"], stored(mine)["kind"]) == ("mine", "referral")


def test_official_rules_given_to_a_draft_are_frozen_once_it_is_published(
    factory: Factory,
) -> None:
    lottery = create(factory.workspace(), kind="lottery", rules=LOTTERY_RULES)
    publish_campaign(lottery)
    errors = refused(update_campaign, lottery, {"rules": {**LOTTERY_RULES, "min_age": 16}})
    assert set(errors) == {"rules"}
    assert stored(lottery)["settings"]["rules"] == LOTTERY_RULES


# --- publish and close -----------------------------------------------------------------------


def test_publishing_a_lottery_without_rules_names_each_missing_rules_field(
    factory: Factory,
) -> None:
    lottery = create(factory.workspace(), kind="lottery")
    errors = refused(publish_campaign, lottery)
    assert set(errors) == {f"rules.{name}" for name in LOTTERY_RULE_FIELDS}
    assert "rules.sponsor" in errors
    assert stored(lottery)["status"] == "draft"


def test_publishing_a_lottery_with_some_rules_names_only_the_missing_ones(
    factory: Factory,
) -> None:
    partial = {k: v for k, v in LOTTERY_RULES.items() if k not in ("sponsor", "prizes")}
    lottery = create(factory.workspace(), kind="lottery", rules=partial)
    assert set(refused(publish_campaign, lottery)) == {"rules.sponsor", "rules.prizes"}


def test_a_lottery_whose_rules_are_completed_goes_live(factory: Factory) -> None:
    lottery = create(factory.workspace(), kind="lottery")
    update_campaign(lottery, {"rules": LOTTERY_RULES})
    publish_campaign(lottery)
    live = stored(lottery)
    assert live["status"] == "live" and live["published_at"] is not None
    assert live["settings"]["rules"] == LOTTERY_RULES


def test_publish_then_close_walks_a_campaign_through_its_life(factory: Factory) -> None:
    campaign = create(factory.workspace())
    publish_campaign(campaign)
    live = stored(campaign)
    assert live["status"] == "live" and live["closed_at"] is None
    close_campaign(campaign)
    closed = stored(campaign)
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["published_at"] == live["published_at"]


def test_publishing_twice_is_a_conflict_that_names_the_draft(factory: Factory) -> None:
    campaign = create(factory.workspace())
    publish_campaign(campaign)
    live = stored(campaign)
    with pytest.raises(Conflict) as raised:
        publish_campaign(campaign)
    assert "draft" in str(raised.value)
    assert stored(campaign) == live


def test_closing_a_draft_is_a_conflict(factory: Factory) -> None:
    campaign = create(factory.workspace())
    before = stored(campaign)
    with pytest.raises(Conflict):
        close_campaign(campaign)
    assert stored(campaign) == before


def test_a_closed_campaign_can_be_neither_changed_closed_nor_published_again(
    factory: Factory,
) -> None:
    campaign = create(factory.workspace())
    publish_campaign(campaign)
    close_campaign(campaign)
    closed = stored(campaign)
    for again in (
        lambda: update_campaign(campaign, {"name": "Again"}),
        lambda: close_campaign(campaign),
        lambda: publish_campaign(campaign),
    ):
        with pytest.raises(Conflict):
            again()
        assert stored(campaign) == closed


# --- the list, page by page ------------------------------------------------------------------


def ids(page: Any) -> list[int]:
    return [c.id for c in page.items]


def test_an_empty_workspace_has_one_empty_last_page(factory: Factory) -> None:
    page = campaign_page(factory.workspace().id, None, None)
    assert (page.items, page.next_cursor) == ([], None)


def test_a_page_holds_50_campaigns_by_default(factory: Factory) -> None:
    workspace = factory.workspace()
    for _ in range(51):
        factory.campaign(workspace)
    first = campaign_page(workspace.id, None, None)
    assert len(first.items) == 50 and first.next_cursor
    second = campaign_page(workspace.id, None, first.next_cursor)
    assert len(second.items) == 1 and second.next_cursor is None


def test_a_page_holds_at_most_500(factory: Factory) -> None:
    workspace = factory.workspace()
    db.session.add_all(
        Campaign(workspace_id=workspace.id, name=f"C{n}", slug=f"bulk-{n}", kind="referral")
        for n in range(501)
    )
    db.session.commit()
    page = campaign_page(workspace.id, 500, None)
    assert len(page.items) == 500
    rest = campaign_page(workspace.id, None, page.next_cursor)
    assert len(rest.items) == 1 and rest.next_cursor is None


def test_walking_every_page_returns_every_campaign_of_the_workspace_exactly_once(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    wanted = [factory.campaign(workspace).id for _ in range(10)]
    factory.campaign(factory.workspace())  # another workspace's campaign never shows up
    seen: list[int] = []
    cursor = None
    for _ in range(20):
        page = campaign_page(workspace.id, 3, cursor)
        assert len(page.items) <= 3
        seen.extend(ids(page))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == wanted


def test_a_campaign_created_while_paging_is_not_skipped(factory: Factory) -> None:
    workspace = factory.workspace()
    first_ids = [factory.campaign(workspace).id for _ in range(3)]
    first = campaign_page(workspace.id, 2, None)
    late = create(workspace, name="Late")
    rest = campaign_page(workspace.id, 10, first.next_cursor)
    assert ids(first) + ids(rest) == [*first_ids, late.id]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", "1.5", "1e2", "99999999999999999999"])
def test_a_limit_out_of_1_to_500_is_refused(factory: Factory, limit: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        campaign_page(factory.workspace().id, limit, None)  # type: ignore[arg-type]
    assert set(raised.value.errors) == {"limit"}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FOREIGN_CURSORS = [
    "garbage",
    "!!!",
    "%FF",
    "\u00e9t\u00e9",
    _b64("abc"),
    _b64("12"),
    _b64("after:"),
    _b64("after:-1"),
    _b64("after:0"),
    _b64("after:1.5"),
    _b64("after:2147483648"),
    _b64("after:" + "9" * 40),
    _b64("after:1") + "!!",
    "x" * 300,
]


@pytest.mark.parametrize("cursor", FOREIGN_CURSORS, ids=[c[:20] for c in FOREIGN_CURSORS])
def test_a_cursor_we_did_not_make_is_refused(factory: Factory, cursor: str) -> None:
    workspace = factory.workspace()
    factory.campaign(workspace)
    with pytest.raises(ValidationFailed) as raised:
        campaign_page(workspace.id, None, cursor)
    assert set(raised.value.errors) == {"cursor"}
