"""Roles in /admin (viewer reads, editor changes campaigns, owner also manages keys), and
marketers who belong to several workspaces."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import Rule

from referral.extensions import db
from referral.models import (
    ApiKey,
    Campaign,
    InstantWinPrize,
    Membership,
    OutboxMessage,
    Participation,
    RewardRule,
    Segment,
)
from referral.models.base import utcnow
from referral.models.journey import CustomerTag, Journey
from referral.models.webhooks import WebhookDelivery, WebhookEndpoint
from referral.services import import_jobs, journeys, outbox, segments, survey_builder, webhooks
from referral.services.privacy import Actor
from tests.conftest import Browser
from tests.factories import Factory

NEW_CAMPAIGN = {
    "name": "By role",
    "kind": "referral",
    "slug": "by-role",
    "description": "",
    "reward_depth": "1",
    "attribution_days": "30",
    "hold_days": "0",
    "locales": ["en"],
}


RULE_FORM = {
    "event": "purchase",
    "level": "1",
    "reward": "points",
    "amount": "99",
    "decision": "approve",
}


def state(campaign_id: int, key_id: int) -> tuple[Any, ...]:
    """What a forbidden request must leave untouched."""
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    key = db.session.get(ApiKey, key_id)
    assert campaign is not None and key is not None
    return (
        campaign.name,
        campaign.status,
        key.revoked_at,
        db.session.scalar(select(func.count()).select_from(Campaign)),
        db.session.scalar(select(func.count()).select_from(ApiKey)),
    )


@pytest.fixture
def viewer(login_as: Any, factory: Factory) -> tuple[Any, Campaign, ApiKey]:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="draft", name="Read only")
    key, _secret = factory.api_key(workspace)
    return workspace, campaign, key


@pytest.mark.parametrize(
    ("path", "shows"),
    [
        ("/admin/campaigns", "{name}"),
        ("/admin/campaigns/{c}", "{name}"),
        ("/admin/api-keys", "{prefix}…"),
    ],
)
def test_a_viewer_reads_the_campaigns_and_keys_pages(
    browser: Browser, viewer: tuple[Any, Campaign, ApiKey], path: str, shows: str
) -> None:
    _, campaign, key = viewer
    response = browser.client.get(path.format(c=campaign.id))
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert shows.format(name=campaign.name, prefix=key.prefix) in page


def test_a_viewer_is_offered_no_buttons_that_change_anything(
    browser: Browser, viewer: tuple[Any, Campaign, ApiKey]
) -> None:
    _, campaign, key = viewer
    overview = browser.client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/admin/campaigns/{campaign.id}/publish" not in overview
    assert f"/admin/campaigns/{campaign.id}/edit" not in overview
    assert "/admin/campaigns/new" not in browser.client.get("/admin/campaigns").get_data(
        as_text=True
    )
    keys = browser.client.get("/admin/api-keys").get_data(as_text=True)
    assert f"/admin/api-keys/{key.id}/revoke" not in keys
    assert "Only workspace owners can create or revoke keys." in keys


@pytest.mark.parametrize("path", ["/admin/campaigns/new", "/admin/campaigns/{c}/edit"])
def test_a_viewer_cannot_open_the_campaign_forms(
    browser: Browser, viewer: tuple[Any, Campaign, ApiKey], path: str
) -> None:
    _, campaign, _ = viewer
    assert browser.client.get(path.format(c=campaign.id)).status_code == 403


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/campaigns/new", NEW_CAMPAIGN),
        ("/admin/campaigns/{c}/edit", {**NEW_CAMPAIGN, "name": "Renamed by a viewer"}),
        ("/admin/campaigns/{c}/publish", {}),
        ("/admin/campaigns/{c}/close", {}),
        ("/admin/api-keys", {"name": "Viewer key"}),
        ("/admin/api-keys/{k}/revoke", {}),
    ],
)
def test_a_viewer_gets_403_on_every_change_and_nothing_changes(
    browser: Browser, viewer: tuple[Any, Campaign, ApiKey], path: str, data: dict[str, Any]
) -> None:
    """Can a viewer change anything by posting the forms by hand? No: 403, nothing stored."""
    _, campaign, key = viewer
    before = state(campaign.id, key.id)
    response = browser.post(path.format(c=campaign.id, k=key.id), data)
    assert response.status_code == 403
    assert state(campaign.id, key.id) == before


def test_a_viewer_cannot_close_a_live_campaign(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live")
    assert browser.post(f"/admin/campaigns/{campaign.id}/close").status_code == 403
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "live"  # type: ignore[union-attr]


def test_an_editor_creates_edits_and_publishes_a_campaign(browser: Browser, login_as: Any) -> None:
    login_as("editor")
    created = browser.post("/admin/campaigns/new", NEW_CAMPAIGN, "/admin/campaigns/new")
    assert created.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "by-role"))
    assert campaign is not None
    edit = f"/admin/campaigns/{campaign.id}/edit"
    assert browser.client.get(edit).status_code == 200
    assert browser.post(edit, {**NEW_CAMPAIGN, "name": "Edited"}, edit).status_code == 302
    assert browser.post(f"/admin/campaigns/{campaign.id}/publish").status_code == 302
    assert browser.post(f"/admin/campaigns/{campaign.id}/close").status_code == 302
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert saved is not None
    assert (saved.name, saved.status) == ("Edited", "closed")


def test_an_editor_cannot_create_or_revoke_api_keys(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    key, _secret = factory.api_key(workspace)
    assert browser.client.get("/admin/api-keys").status_code == 200
    assert browser.post("/admin/api-keys", {"name": "Editor key"}).status_code == 403
    assert browser.post(f"/admin/api-keys/{key.id}/revoke").status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 1
    assert db.session.get(ApiKey, key.id).revoked_at is None  # type: ignore[union-attr]


def test_an_owner_can_do_everything(browser: Browser, login_as: Any) -> None:
    login_as("owner")
    assert (
        browser.post("/admin/campaigns/new", NEW_CAMPAIGN, "/admin/campaigns/new").status_code
        == 302
    )
    campaign = db.session.scalar(select(Campaign))
    assert campaign is not None
    edit = f"/admin/campaigns/{campaign.id}/edit"
    assert browser.post(edit, {**NEW_CAMPAIGN, "name": "Owned"}, edit).status_code == 302
    assert browser.post(f"/admin/campaigns/{campaign.id}/publish").status_code == 302
    assert browser.post(f"/admin/campaigns/{campaign.id}/close").status_code == 302
    assert browser.post("/admin/api-keys", {"name": "Owner key"}).status_code == 201
    key = db.session.scalar(select(ApiKey))
    assert key is not None
    assert browser.post(f"/admin/api-keys/{key.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "closed"  # type: ignore[union-attr]
    assert db.session.get(ApiKey, key.id).revoked_at is not None  # type: ignore[union-attr]


def test_a_role_is_per_workspace(browser: Browser, factory: Factory) -> None:
    """Is an owner of brand A also an owner of brand B where they are only a viewer? No."""
    marketer, brand_a = factory.marketer(role="owner")
    brand_b = factory.workspace(name="Brand B")
    db.session.add(Membership(workspace_id=brand_b.id, marketer_id=marketer.id, role="viewer"))
    db.session.commit()
    browser.login(marketer.email)
    assert browser.client.get("/admin/campaigns/new").status_code == 200
    browser.post("/admin/workspace", {"workspace_id": brand_b.id})
    assert browser.client.get("/admin/campaigns/new").status_code == 403
    assert browser.post("/admin/campaigns/new", NEW_CAMPAIGN).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


# Several workspaces


@pytest.fixture
def two_brands(browser: Browser, factory: Factory) -> tuple[Any, Any, Campaign, Campaign]:
    marketer, brand_a = factory.marketer(role="owner")
    brand_a.name = "Brand Alpha"
    brand_b = factory.workspace(name="Brand Beta")
    db.session.add(Membership(workspace_id=brand_b.id, marketer_id=marketer.id, role="editor"))
    db.session.commit()
    alpha = factory.campaign(brand_a, name="Alpha campaign")
    beta = factory.campaign(brand_b, name="Beta campaign")
    assert browser.login(marketer.email).status_code == 302
    return brand_a, brand_b, alpha, beta


def test_a_marketer_of_two_workspaces_starts_in_the_first_and_can_switch(
    browser: Browser, two_brands: tuple[Any, Any, Campaign, Campaign]
) -> None:
    _, brand_b, alpha, beta = two_brands
    page = browser.client.get("/admin/campaigns").get_data(as_text=True)
    assert "Alpha campaign" in page and "Beta campaign" not in page
    assert "Brand Beta" in page  # offered in the switcher
    response = browser.post("/admin/workspace", {"workspace_id": brand_b.id})
    assert response.status_code == 302
    page = browser.client.get("/admin/campaigns").get_data(as_text=True)
    assert "Beta campaign" in page and "Alpha campaign" not in page
    assert browser.client.get(f"/admin/campaigns/{beta.id}").status_code == 200
    assert browser.client.get(f"/admin/campaigns/{alpha.id}").status_code == 404


def test_switching_to_a_workspace_the_marketer_is_not_a_member_of_is_404(
    browser: Browser, factory: Factory, two_brands: tuple[Any, Any, Campaign, Campaign]
) -> None:
    stranger = factory.workspace(name="Brand Gamma")
    factory.campaign(stranger, name="Gamma campaign")
    response = browser.post("/admin/workspace", {"workspace_id": stranger.id})
    assert response.status_code == 404
    page = browser.client.get("/admin/campaigns").get_data(as_text=True)
    assert "Alpha campaign" in page
    assert "Gamma campaign" not in page


def test_a_workspace_switch_without_csrf_token_changes_nothing(
    browser: Browser, two_brands: tuple[Any, Any, Campaign, Campaign]
) -> None:
    _, brand_b, _, _ = two_brands
    browser.client.post("/admin/workspace", data={"workspace_id": brand_b.id})
    assert "Alpha campaign" in browser.client.get("/admin/campaigns").get_data(as_text=True)


def test_a_marketer_without_any_workspace_is_refused(browser: Browser, factory: Factory) -> None:
    marketer, _ = factory.marketer()
    db.session.execute(Membership.__table__.delete().where(Membership.marketer_id == marketer.id))
    db.session.commit()
    browser.login(marketer.email)
    assert browser.client.get("/admin/campaigns").status_code == 403
    assert browser.client.get("/admin/api-keys").status_code == 403


def test_a_forbidden_admin_page_is_an_html_page_saying_why(
    browser: Browser, factory: Factory
) -> None:
    marketer, _ = factory.marketer()
    db.session.execute(Membership.__table__.delete().where(Membership.marketer_id == marketer.id))
    db.session.commit()
    browser.login(marketer.email)
    response = browser.client.get("/admin/campaigns")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Your account is not a member of any workspace." in response.get_data(as_text=True)


# Only your workspace (DESIGN invariant 7)

INT_ARGUMENT = re.compile(r"<int:(\w+)>")
# The words an admin URL names beside its ids: an e-mail and a language (a campaign's own
# e-mail texts).
TEXT_ARGUMENTS = {"mail": "confirmation", "locale": "de"}


def admin_routes_with_ids(app: Flask) -> list[Rule]:
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and INT_ARGUMENT.search(rule.rule)
    ]
    assert len(rules) >= 5, "the admin lost its routes with ids?"
    return rules


# Which kind of campaign an admin route belongs to, by a word of its endpoint.
ROUTE_KINDS = (
    ("lottery", "lottery"),
    ("survey", "survey"),
    ("trial", "trial"),
    ("prize", "instant_win"),
    ("game", "instant_win"),
    ("instant_win", "instant_win"),
)


# Pages that exist only once a draw has run (before it, A itself gets "no draw yet").
AFTER_A_DRAW = {"admin.lottery_winners_csv"}


def kind_of(endpoint: str) -> str:
    return next((kind for word, kind in ROUTE_KINDS if word in endpoint), "referral")


def rows_of(workspace: Any, factory: Factory, status: str) -> dict[str, dict[str, int]]:
    """Per kind of campaign, one row of each kind an admin URL can name, all in
    ``workspace``: ``rows[kind_of(endpoint)][argument]``."""
    key, _secret = factory.api_key(workspace)
    endpoint = webhooks.create_endpoint(workspace, "https://example.com/h", ["reward.granted"])
    delivery = WebhookDelivery(
        workspace_id=workspace.id,
        endpoint_id=endpoint.id,
        event="reward.granted",
        event_key="reward.granted:0",
        payload={},
        status="failed",
        next_attempt_at=utcnow(),
    )
    db.session.add(delivery)
    colleague, _workspace = factory.marketer(role="editor", workspace=workspace)
    membership = db.session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace.id, Membership.marketer_id == colleague.id
        )
    )
    journey = journeys.create_journey(
        workspace.id,
        "Alpha secret journey",
        {
            "trigger": {"type": "event", "event": "purchase"},
            "steps": [{"id": "end", "type": "exit"}],
        },
        status="running",
    )
    message = outbox.queue(
        workspace.id, "alpha@example.com", "confirmation", outbox.Mail("Alpha", "T", "<p>H</p>")
    )
    message.status = "failed"
    db.session.commit()
    segment = segments.save_segment(
        workspace.id, "Alpha secret segment", {"status": "pending"}, Actor(label="test")
    )
    shared = {
        "segment_id": segment.id,
        "message_id": message.id,
        "journey_id": journey.id,
        "key_id": key.id,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "membership_id": membership,
    }
    rows: dict[str, dict[str, int]] = {}
    for kind in ("referral", "lottery", "survey", "trial", "instant_win"):
        campaign = factory.campaign(
            workspace, kind=kind, status=status, name=f"Alpha secret {kind}"
        )
        participation = factory.participation(campaign)
        rule = RewardRule(
            campaign_id=campaign.id, event="purchase", level=1, reward="points", amount=1
        )
        prize = InstantWinPrize(
            campaign_id=campaign.id, name="Mug", chance_ppm=1000, inventory=1, remaining=1
        )
        db.session.add_all([rule, prize])
        db.session.commit()
        question = None
        if kind == "survey":
            question = survey_builder.add_question(
                campaign,
                {"kind": "single", "prompt": "Roast?", "required": True, "options": ["A", "B"]},
            )
        upload = import_jobs.upload_file(campaign, "alpha.csv", b"email\nalpha@example.com\n")
        rows[kind] = {
            **shared,
            "import_id": upload.id,
            "campaign_id": campaign.id,
            "participation_id": participation.id,
            "customer_id": participation.customer_id,
            "rule_id": rule.id,
            "prize_id": prize.id,
            "question_id": question.id if question else 0,
        }
    return rows


def snapshot(workspace_id: int) -> list[Any]:
    """Everything of the workspace an admin form could change."""
    db.session.expire_all()
    campaigns = db.session.scalars(select(Campaign).where(Campaign.workspace_id == workspace_id))
    keys = db.session.scalars(select(ApiKey).where(ApiKey.workspace_id == workspace_id))
    rules = db.session.scalars(
        select(RewardRule).join(Campaign).where(Campaign.workspace_id == workspace_id)
    )
    participations = db.session.scalars(
        select(Participation).join(Campaign).where(Campaign.workspace_id == workspace_id)
    )
    return [
        sorted(
            (c.id, c.name, c.slug, c.status, c.reward_depth, str(c.settings), c.embed_origins)
            for c in campaigns
        ),
        sorted((k.id, k.name, k.revoked_at) for k in keys),
        sorted((r.id, r.event, r.level, r.amount, r.active) for r in rules),
        sorted((p.id, p.status, p.referral_status, p.confirmed_at) for p in participations),
        sorted(
            (p.id, p.name, p.chance_ppm, p.remaining, p.active)
            for p in db.session.scalars(
                select(InstantWinPrize).join(Campaign).where(Campaign.workspace_id == workspace_id)
            )
        ),
        sorted(
            (e.id, e.url, e.active)
            for e in db.session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
            )
        ),
        sorted(
            (d.id, d.status, d.next_attempt_at)
            for d in db.session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.workspace_id == workspace_id)
            )
        ),
        sorted(
            (j.id, j.name, j.status, j.version)
            for j in db.session.scalars(select(Journey).where(Journey.workspace_id == workspace_id))
        ),
        sorted(
            (m.id, m.status, m.next_attempt_at)
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.workspace_id == workspace_id)
            )
        ),
        sorted(
            (s.id, s.name, str(s.filters))
            for s in db.session.scalars(select(Segment).where(Segment.workspace_id == workspace_id))
        ),
        sorted(
            (t.customer_id, t.tag)
            for t in db.session.scalars(
                select(CustomerTag).where(CustomerTag.workspace_id == workspace_id)
            )
        ),
        sorted(
            (m.id, m.role, m.disabled_at, m.marketer.session_token)
            for m in db.session.scalars(
                select(Membership).where(Membership.workspace_id == workspace_id)
            )
        ),
    ]


@pytest.mark.parametrize("status", ["draft", "live"])
def test_invariant_7_only_your_workspace_every_admin_id_of_another_workspace_is_404(
    app: Flask, browser: Browser, factory: Factory, status: str
) -> None:
    """Can a marketer of workspace B read or change campaign 1 of workspace A? No: every
    admin URL with an id of workspace A answers 404 to B, for GET and POST, and nothing in
    A changes."""
    brand_a = factory.workspace(name="Brand A")
    rows = rows_of(brand_a, factory, status)
    owner_a, _ = factory.marketer(role="owner", workspace=brand_a)
    marketer_b, brand_b = factory.marketer(role="owner")
    factory.campaign(brand_b)
    assert browser.login(marketer_b.email).status_code == 302
    insider = Browser(app.test_client())
    assert insider.login(owner_a.email).status_code == 302
    before = snapshot(brand_a.id)
    tried = []
    for rule in admin_routes_with_ids(app):
        ids = rows[kind_of(rule.endpoint)]
        names = INT_ARGUMENT.findall(rule.rule)
        unknown = [n for n in names if n not in ids]
        assert not unknown, f"teach this test which row {unknown} of {rule.endpoint} names"
        url = rule.rule
        for name in names:
            url = url.replace(f"<int:{name}>", str(ids[name]))
        for name, value in TEXT_ARGUMENTS.items():
            url = url.replace(f"<{name}>", value)
        methods = rule.methods or set()
        if "GET" in methods:
            assert browser.client.get(url).status_code == 404, url
            expected = 404 if rule.endpoint in AFTER_A_DRAW else 200
            assert insider.client.get(url).status_code == expected, f"{url} is broken for A"
            tried.append(("GET", url))
        if "POST" in methods:
            data = {
                **NEW_CAMPAIGN,
                **RULE_FORM,
                "name": "Taken over",
                "slug": "taken-over",
                "tag": "taken over",
            }
            assert browser.post(url, data).status_code == 404, url
            tried.append(("POST", url))
    ids = rows["referral"]
    assert ("POST", f"/admin/campaigns/{ids['campaign_id']}/publish") in tried
    assert ("POST", f"/admin/api-keys/{ids['key_id']}/revoke") in tried
    survey_id = rows["survey"]["campaign_id"]
    assert ("GET", f"/admin/campaigns/{survey_id}/survey/results") in tried
    assert snapshot(brand_a.id) == before


def test_a_viewer_gets_403_on_every_admin_post_route(
    app: Flask, browser: Browser, login_as: Any, factory: Factory
) -> None:
    """Viewers read; editors and owners change: no admin form but the workspace switch is
    open to a viewer, including forms added after this test was written."""
    _, workspace = login_as("viewer")
    rows = rows_of(workspace, factory, "live")
    before = snapshot(workspace.id)
    posted = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or "POST" not in (rule.methods or set()):
            continue
        if rule.endpoint == "admin.switch_workspace":
            continue
        url = rule.rule
        ids = rows[kind_of(rule.endpoint)]
        for name in INT_ARGUMENT.findall(rule.rule):
            assert name in ids, f"teach this test which row {name} of {rule.endpoint} names"
            url = url.replace(f"<int:{name}>", str(ids[name]))
        data = {**NEW_CAMPAIGN, **RULE_FORM, "name": "By a viewer", "tag": "by a viewer"}
        assert browser.post(url, data).status_code == 403, url
        posted.append(rule.endpoint)
    assert {"admin.new_campaign", "admin.create_api_key", "admin.revoke_api_key"} <= set(posted)
    assert snapshot(workspace.id) == before
