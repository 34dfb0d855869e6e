"""The referral engine in /admin: reward rules, coupon pool, participants, customer
timelines and the review queue — with roles and workspace scoping."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    CouponCode,
    LedgerEntry,
    Participation,
    RewardRule,
    Workspace,
)
from referral.services.rules import add_rule
from tests.conftest import Browser
from tests.factories import Factory, add_click
from tests.scenarios import device_burst, join, referred_buyer, three_friends

NOW = datetime.now(UTC)


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def latest() -> None:
    """End the test's own transaction, so the next read sees what requests and threads
    committed since (a transaction reads from its own snapshot)."""
    db.session.commit()


# Sign-ins and refused requests are audited as well; these tests are about decisions.
NOT_SECURITY = (~AuditEntry.action.startswith("auth."), AuditEntry.action != "admin.access")


def count(model: Any, *where: Any) -> int:
    latest()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def fresh(model: Any, ident: int) -> Any:
    latest()
    return db.session.get(model, ident)


@pytest.fixture
def editor(login_as: Any, factory: Factory) -> tuple[Workspace, Campaign]:
    _, workspace = login_as("editor")
    return workspace, factory.campaign(workspace, status="live", name="Spring bikes")


def rule_form(**overrides: Any) -> dict[str, Any]:
    data = {"event": "purchase", "milestone": "", "level": "1", "reward": "points"}
    data.update({"amount": "500", "currency": ""})
    data.update(overrides)
    return data


# Reward rules


def test_an_editor_adds_a_rule_and_the_page_explains_it_in_words(
    browser: Browser, editor: tuple[Workspace, Campaign]
) -> None:
    _, campaign = editor
    path = f"/admin/campaigns/{campaign.id}/rules"
    response = browser.post(path, rule_form(), path)
    assert response.status_code == 302
    rule = db.session.scalar(select(RewardRule))
    assert (rule.event, rule.level, rule.reward, rule.amount) == ("purchase", 1, "points", 500)
    page = text_of(browser.client.get(path))
    assert "Reward rule added." in page
    assert "On a purchase" in page
    assert "Level 1: their referrer" in page
    assert "500 points" in page
    assert "the person who acts" in page and "two levels up" in page


def test_a_milestone_rule_pays_cash_in_the_given_currency(
    browser: Browser, editor: tuple[Workspace, Campaign]
) -> None:
    _, campaign = editor
    path = f"/admin/campaigns/{campaign.id}/rules"
    data = rule_form(
        event="milestone", milestone="5", level="0", reward="cash", amount="2500", currency="eur"
    )
    assert browser.post(path, data, path).status_code == 302
    rule = db.session.scalar(select(RewardRule))
    assert (rule.event, rule.milestone, rule.currency) == (None, 5, "EUR")
    page = text_of(browser.client.get(path))
    assert "At 5 confirmed referrals" in page
    assert "€25.00" in page
    assert "the advocate who reaches it" in page


@pytest.mark.parametrize(
    ("depth", "data", "reason"),
    [
        (
            1,
            rule_form(level="2"),
            "Level 2 is deeper than this campaign pays (reward depth 1, server ceiling 2).",
        ),
        (
            2,
            rule_form(event="signup_confirmed", level="2"),
            "Levels 2 and deeper may only pay for purchases or converted trials",
        ),
    ],
)  # every other way past the cap: tests/unit/test_depth.py (REFUSED_LEVELS)
def test_invariant_2_depth_cap_a_rule_past_the_cap_is_refused_with_the_reason_and_nothing_stored(
    browser: Browser, login_as: Any, factory: Factory, depth: int, data: dict[str, Any], reason: str
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace, reward_depth=depth)
    path = f"/admin/campaigns/{campaign.id}/rules"
    response = browser.post(path, data, path)
    assert response.status_code == 422
    page = text_of(response)
    assert reason in page
    # The cap itself is explained next to the error.
    assert "this server never pays more than 2 levels up" in page
    assert "rewarding people for recruiting recruiters is what makes a pyramid scheme" in page
    assert count(RewardRule) == 0


def depth_refusals() -> list[AuditEntry]:
    latest()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "reward_depth.refused")
            .order_by(AuditEntry.id)
        )
    )


def test_a_rule_past_the_cap_refused_by_the_form_is_audited(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    marketer, workspace = login_as("owner")
    campaign = factory.campaign(workspace, reward_depth=1)
    path = f"/admin/campaigns/{campaign.id}/rules"
    assert browser.post(path, rule_form(level="3"), path).status_code == 422
    (entry,) = depth_refusals()
    assert (entry.workspace_id, entry.marketer_id, entry.outcome) == (
        workspace.id,
        marketer.id,
        "denied",
    )
    assert entry.subject == f"campaign:{campaign.id}" and entry.ip_hash
    assert (entry.data["field"], entry.data["requested"], entry.data["allowed"]) == ("level", 3, 1)
    assert (entry.data["reward_depth"], entry.data["ceiling"]) == (1, 2)
    assert browser.post(path, rule_form(level="1"), path).status_code == 302
    assert len(depth_refusals()) == 1  # an accepted rule is not a refusal


def test_a_level_0_rule_on_a_confirmed_referral_says_it_pays_the_referred_friend(
    browser: Browser, editor: tuple[Workspace, Campaign]
) -> None:
    _, campaign = editor
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 100})
    page = text_of(browser.client.get(f"/admin/campaigns/{campaign.id}/rules"))
    rules = page.split('data-testid="rules"', 1)[1].split("</table>", 1)[0]
    assert "On a referred friend confirms their sign-up" in rules
    assert "Level 0: the referred friend (only someone a confirmed advocate referred)" in rules
    assert "the person who acts" not in rules


@pytest.mark.parametrize("event", ["purchase", "trial_converted"])
def test_a_prize_draw_refuses_entries_for_a_paid_event_in_the_form(
    browser: Browser, login_as: Any, factory: Factory, event: str
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, kind="lottery", status="live")
    path = f"/admin/campaigns/{campaign.id}/rules"
    response = browser.post(path, rule_form(event=event, level="0", reward="entries"), path)
    assert response.status_code == 422
    page = text_of(response)
    assert "A prize draw cannot give draw entries for a purchase or a paid plan" in page
    assert "No purchase necessary: in a prize draw, draw entries cannot be a reward" in page
    assert count(RewardRule) == 0
    free = rule_form(event="signup_confirmed", level="1", reward="entries", amount="1")
    assert browser.post(path, free, path).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (rule_form(reward="cash", currency=""), "Cash rewards need a three-letter currency code"),
        (rule_form(event="milestone", milestone=""), "Give the number of confirmed referrals."),
        (rule_form(amount="0"), "Number must be between 1 and 10000000."),
        # More the form refuses by itself: tests/unit/test_forms.py.
    ],
)
def test_a_malformed_rule_is_refused_with_a_message_and_nothing_stored(
    browser: Browser, editor: tuple[Workspace, Campaign], data: dict[str, Any], message: str
) -> None:
    _, campaign = editor
    path = f"/admin/campaigns/{campaign.id}/rules"
    response = browser.post(path, data, path)
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(RewardRule) == 0


def test_switching_a_rule_off_stops_it_and_keeps_it_listed(
    browser: Browser, editor: tuple[Workspace, Campaign]
) -> None:
    _, campaign = editor
    rule = add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 5})
    url = f"/admin/campaigns/{campaign.id}/rules/{rule.id}/deactivate"
    response = browser.post(url)
    assert response.status_code == 302
    assert fresh(RewardRule, rule.id).active is False
    page = text_of(browser.client.get(response.headers["Location"]))
    assert "The rule no longer pays." in page
    assert "Switched off" in page
    assert url not in page
    assert browser.post(url).status_code == 302  # again: harmless
    assert fresh(RewardRule, rule.id).active is False


def test_a_rule_of_another_campaign_is_404_under_this_campaign(
    browser: Browser, editor: tuple[Workspace, Campaign], factory: Factory
) -> None:
    workspace, campaign = editor
    other = factory.campaign(workspace)
    rule = add_rule(other, {"event": "purchase", "level": 0, "reward": "points", "amount": 5})
    response = browser.post(f"/admin/campaigns/{campaign.id}/rules/{rule.id}/deactivate")
    assert response.status_code == 404
    assert fresh(RewardRule, rule.id).active is True


# Coupon pool


def test_an_editor_uploads_codes_from_the_textarea_and_a_csv_file(
    browser: Browser, editor: tuple[Workspace, Campaign]
) -> None:
    _, campaign = editor
    path = f"/admin/campaigns/{campaign.id}/rules"
    data = {
        "csrf_token": browser.token(path),
        "codes": "SPRING-1\n  SPRING-2 \nSPRING-1\n",
        "file": (io.BytesIO(b"code\nSPRING-2\nSPRING-3\n"), "codes.csv"),
    }
    response = browser.client.post(
        f"/admin/campaigns/{campaign.id}/coupons", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    assert sorted(db.session.scalars(select(CouponCode.code))) == [
        "SPRING-1",
        "SPRING-2",
        "SPRING-3",
    ]
    page = text_of(browser.client.get(path))
    assert "3 codes added · 0 already in the pool." in page
    assert re.search(r'stat-value">3</span><span class="stat-label">Codes left', page)


def test_a_bad_coupon_upload_answers_422_and_stores_nothing(
    browser: Browser, editor: tuple[Workspace, Campaign]
) -> None:
    _, campaign = editor
    url = f"/admin/campaigns/{campaign.id}/coupons"
    too_long = browser.post(url, {"codes": "OK\n" + "Y" * 80})
    assert too_long.status_code == 422
    assert "Codes are 1 to 64 characters" in text_of(too_long)
    empty = browser.post(url, {"codes": "  \n"})
    assert empty.status_code == 422
    assert "Give at least one coupon code." in text_of(empty)
    assert count(CouponCode) == 0


# Participants


@pytest.fixture
def spread(editor: tuple[Workspace, Campaign]) -> dict[str, Participation]:
    """An advocate with two confirmed friends and one pending, paid 100 points per friend."""
    return three_friends(editor[1])


def rows(page: str) -> list[str]:
    if 'data-testid="participants"' not in page:
        return []
    body = page.split('data-testid="participants"', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[2:]


def cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)


def row_of(page: str, email: str) -> list[str]:
    """The cells of the participant whose own address (first column) is ``email``."""
    return next(cells(r) for r in rows(page) if f">{email}</a>" in cells(r)[0])


def emails_in(page: str) -> list[str]:
    return sorted(re.search(r">([^<@]+)@", cells(r)[0]).group(1) for r in rows(page))


def test_the_participants_table_shows_referrers_depth_channel_referrals_and_points(
    browser: Browser, editor: tuple[Workspace, Campaign], spread: dict[str, Participation]
) -> None:
    _, campaign = editor
    page = text_of(browser.client.get(f"/admin/campaigns/{campaign.id}/participants"))
    assert len(rows(page)) == 4
    anna = row_of(page, "anna@example.com")
    assert f"/admin/customers/{spread['anna'].customer_id}" in anna[0]
    assert spread["anna"].referral_code in anna[0]
    assert anna[1] == "Anna Berg"
    assert "Confirmed" in anna[2]
    assert [anna[3], anna[4], anna[6], anna[7]] == ["—", "0", "2", "200"]
    ben = row_of(page, "ben@example.com")
    assert [ben[3], ben[4], ben[5], ben[6], ben[7]] == [
        "anna@example.com",
        "1",
        "whatsapp",
        "0",
        "0",
    ]
    assert "Pending" in row_of(page, "dan@example.com")[2]


# Every filter and search: tests/services/test_back_office.py; here the query string's.
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=confirmed&q=BEN", ["ben"]),
        ("q=example.com&status=flagged", []),
        ("status=nonsense", ["anna", "ben", "cleo", "dan"]),
    ],
)
def test_participants_are_filtered_by_status_and_searched_by_email(
    browser: Browser,
    editor: tuple[Workspace, Campaign],
    spread: dict[str, Participation],
    query: str,
    expected: list[str],
) -> None:
    _, campaign = editor
    page = text_of(browser.client.get(f"/admin/campaigns/{campaign.id}/participants?{query}"))
    assert emails_in(page) == expected
    if not expected:
        assert "No participant matches." in page


# Long terms and pages before the first: tests/services/test_back_office.py.
@pytest.mark.parametrize("query", ["q=%00cle%00", "q=%FF%FE"])
def test_junk_in_a_search_is_ignored_not_a_server_error(
    browser: Browser,
    editor: tuple[Workspace, Campaign],
    spread: dict[str, Participation],
    query: str,
) -> None:
    """PostgreSQL refuses NUL in text: control characters are dropped before the query."""
    _, campaign = editor
    response = browser.client.get(f"/admin/campaigns/{campaign.id}/participants?{query}")
    assert response.status_code == 200
    if "cle" in query:
        assert emails_in(text_of(response)) == ["cleo"]
    assert browser.client.get(f"/admin/customers?{query}").status_code == 200


def test_the_participants_page_shows_top_advocates_and_referral_counts(
    browser: Browser, editor: tuple[Workspace, Campaign], spread: dict[str, Participation]
) -> None:
    _, campaign = editor
    for _n in range(3):
        add_click(spread["anna"], NOW)
    db.session.commit()
    page = text_of(browser.client.get(f"/admin/campaigns/{campaign.id}/participants"))
    assert re.search(r'data-testid="stat-clicks">3<', page)
    assert re.search(r'data-testid="stat-joins">3<', page)
    assert re.search(r'data-testid="stat-confirmed">2<', page)
    board = page.split('data-testid="leaderboard"', 1)[1].split("</ol>", 1)[0]
    assert "anna@example.com" in board and "2 confirmed referrals" in board


def test_participants_are_paged_fifty_at_a_time(
    browser: Browser, editor: tuple[Workspace, Campaign], factory: Factory
) -> None:
    _, campaign = editor
    for _n in range(53):
        factory.participation(campaign)
    base = f"/admin/campaigns/{campaign.id}/participants"
    first = text_of(browser.client.get(base))
    assert len(rows(first)) == 50
    assert "Page 1 of 2" in first
    assert len(rows(text_of(browser.client.get(f"{base}?page=2")))) == 3
    assert len(rows(text_of(browser.client.get(f"{base}?page=99")))) == 3
    assert len(rows(text_of(browser.client.get(f"{base}?page=abc")))) == 50


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_the_participants_page_costs_the_same_queries_for_three_or_thirty_rows(
    browser: Browser, editor: tuple[Workspace, Campaign], factory: Factory, statements: list[str]
) -> None:
    """No N+1: referrer, referral counts and points come from one statement."""
    _, campaign = editor
    root = factory.participation(campaign, status="confirmed", confirmed_at=NOW)
    url = f"/admin/campaigns/{campaign.id}/participants"

    def queries() -> int:
        statements.clear()
        assert browser.client.get(url).status_code == 200
        return len(statements)

    for _n in range(2):
        factory.participation(campaign, referrer=root, status="confirmed", confirmed_at=NOW)
    few = queries()
    for _n in range(27):
        factory.participation(campaign, referrer=root, status="confirmed", confirmed_at=NOW)
    assert queries() == few


# Customers


@pytest.fixture
def story(editor: tuple[Workspace, Campaign]) -> Participation:
    return referred_buyer(editor[1])


def test_the_customer_page_shows_the_exact_consent_with_version_and_time(
    browser: Browser, story: Participation
) -> None:
    page = text_of(browser.client.get(f"/admin/customers/{story.customer_id}"))
    assert "eva.muster@example.com" in page
    assert "Eva Muster" in page and "Deutsch" in page
    consents = page.split('data-testid="consents"', 1)[1].split("</section>", 1)[0]
    assert "I agree to the official rules and to e-mails about this campaign." in consents
    assert "version 2024-03" in consents
    assert f"given {NOW:%b} " in consents and str(NOW.year) in consents


def test_the_customer_timeline_tells_every_event_in_order_in_words(
    browser: Browser, story: Participation
) -> None:
    page = text_of(browser.client.get(f"/admin/customers/{story.customer_id}"))
    timeline = page.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    words = [
        "Joined the campaign",
        "Confirmed their e-mail address",
        "Received a reward</strong> · Spring bikes: 50 points, as the person who acts",
        "Made a purchase</strong> · Spring bikes: €25.00",
        "Received a reward</strong> · Spring bikes: 300 points",
    ]
    places = [timeline.find(w) for w in words]
    assert -1 not in places, list(zip(words, places, strict=True))
    assert places == sorted(places)
    assert "reference order-77" in timeline


# Review queue


@pytest.fixture
def flagged(editor: tuple[Workspace, Campaign]) -> dict[str, Participation]:
    return device_burst(editor[1])


def held(participation_id: int) -> list[str]:
    latest()
    return [
        e.status
        for e in db.session.scalars(
            select(LedgerEntry)
            .join(Participation, Participation.id == LedgerEntry.participation_id)
            .where(LedgerEntry.participation_id == participation_id)
        )
    ]


def test_the_review_queue_says_why_each_sign_up_was_flagged(
    browser: Browser, flagged: dict[str, Participation]
) -> None:
    page = text_of(browser.client.get("/admin/review"))
    queue = page.split('data-testid="review-queue"', 1)[1].split("</table>", 1)[0]
    assert "friend3@example.com" in queue and "temp@mailinator.com" in queue
    assert "Several sign-ups from the same device within a day" in queue
    assert "Throwaway e-mail address" in queue
    assert "ada@example.com" in queue  # the referrer
    assert "Spring bikes" in queue
    assert "friend0@example.com" not in queue


def test_approving_confirms_the_participant_and_approves_held_rewards(
    browser: Browser, flagged: dict[str, Participation]
) -> None:
    device, advocate = flagged["device"], flagged["advocate"]
    assert sorted(held(advocate.id)) == ["approved", "approved", "approved", "pending"]
    response = browser.post("/admin/review", {"row": f"approve:{device.id}"}, "/admin/review")
    assert response.status_code == 302
    assert fresh(Participation, device.id).status == "confirmed"
    assert held(advocate.id) == ["approved"] * 4
    page = text_of(browser.client.get("/admin/review"))
    assert "1 participant approved." in page
    decisions = page.split('data-testid="decisions"', 1)[1]
    assert "friend3@example.com" in decisions and "Approved" in decisions


def test_a_bulk_decision_is_one_post_and_each_is_logged_with_the_marketer(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    marketer, workspace = login_as("owner")
    campaign = factory.campaign(workspace, status="live")
    first = factory.participation(campaign, status="flagged", flag_reasons=["referral_burst"])
    second = factory.participation(campaign, status="flagged", flag_reasons=["disposable_email"])
    stays = factory.participation(campaign, status="flagged")
    data = {"ids": [str(first.id), str(second.id)], "decision": "reject"}
    assert browser.post("/admin/review", data, "/admin/review").status_code == 302
    assert [fresh(Participation, p.id).status for p in (first, second, stays)] == [
        "rejected",
        "rejected",
        "flagged",
    ]
    entries = list(
        db.session.scalars(select(AuditEntry).where(*NOT_SECURITY).order_by(AuditEntry.id))
    )
    assert [(e.action, e.subject, e.marketer_id, e.workspace_id) for e in entries] == [
        ("review.reject", f"participation:{first.id}", marketer.id, workspace.id),
        ("review.reject", f"participation:{second.id}", marketer.id, workspace.id),
    ]
    assert "2 participants rejected; their rewards are void." in text_of(
        browser.client.get("/admin/review")
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "approve"}, "Select at least one participant first."),
        ({"decision": "pardon", "ids": ["1"]}, "Choose approve or reject."),
        ({"row": "approve:", "reason": ""}, "Select at least one participant first."),
        ({"decision": "approve", "ids": ["1"], "reason": "x" * 201}, "Field cannot be longer"),
    ],
)
def test_a_bad_review_request_answers_422_and_decides_nothing(
    browser: Browser, flagged: dict[str, Participation], data: dict[str, Any], message: str
) -> None:
    response = browser.post("/admin/review", data, "/admin/review")
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(AuditEntry, *NOT_SECURITY) == 0
    assert fresh(Participation, flagged["device"].id).status == "flagged"


def test_a_decision_about_another_workspaces_participant_changes_nothing(
    browser: Browser, login_as: Any, factory: Factory
) -> None:
    """Can a marketer of workspace B approve a flagged sign-up of workspace A? No."""
    login_as("owner")
    theirs = factory.participation(factory.campaign(factory.workspace()), status="flagged")
    response = browser.post("/admin/review", {"row": f"approve:{theirs.id}"}, "/admin/review")
    assert response.status_code == 302
    assert "Nothing decided" in text_of(browser.client.get("/admin/review"))
    assert fresh(Participation, theirs.id).status == "flagged"
    assert count(AuditEntry, *NOT_SECURITY) == 0


# Roles


def viewer_pages(campaign: Campaign, person: Participation) -> list[str]:
    return [
        f"/admin/campaigns/{campaign.id}/rules",
        f"/admin/campaigns/{campaign.id}/participants",
        f"/admin/campaigns/{campaign.id}/participants?status=flagged&q=x&page=2",
        "/admin/customers",
        "/admin/customers?q=someone",
        f"/admin/customers/{person.customer_id}",
        "/admin/review",
        f"/admin/campaigns/{campaign.id}",
    ]


@pytest.fixture
def viewer(login_as: Any, factory: Factory) -> tuple[Campaign, Participation, RewardRule]:
    _, workspace = login_as("viewer")
    campaign = factory.campaign(workspace, status="live")
    rule = add_rule(campaign, {"event": "purchase", "level": 1, "reward": "points", "amount": 5})
    person = factory.participation(campaign, status="flagged", flag_reasons=["referral_burst"])
    return campaign, person, rule


def test_a_viewer_reads_every_engine_page_without_buttons_that_change_anything(
    browser: Browser, viewer: tuple[Campaign, Participation, RewardRule]
) -> None:
    campaign, person, rule = viewer
    for path in viewer_pages(campaign, person):
        response = browser.client.get(path)
        assert response.status_code == 200, path
        page = text_of(response)
        assert 'method="post" action="/admin/review"' not in page, path
        assert f"/rules/{rule.id}/deactivate" not in page, path
        assert f"/admin/campaigns/{campaign.id}/coupons" not in page, path
        assert "Approve selected" not in page, path
    assert "Unusually many referrals" in text_of(browser.client.get("/admin/review"))


def test_a_viewer_gets_403_on_every_engine_change_and_nothing_changes(
    browser: Browser, viewer: tuple[Campaign, Participation, RewardRule]
) -> None:
    campaign, person, rule = viewer
    posts = [
        (f"/admin/campaigns/{campaign.id}/rules", rule_form()),
        (f"/admin/campaigns/{campaign.id}/rules/{rule.id}/deactivate", {}),
        (f"/admin/campaigns/{campaign.id}/coupons", {"codes": "FREE"}),
        ("/admin/review", {"row": f"approve:{person.id}"}),
        ("/admin/review", {"ids": [str(person.id)], "decision": "reject"}),
    ]
    for path, data in posts:
        assert browser.post(path, data).status_code == 403, path
    assert count(RewardRule) == 1 and fresh(RewardRule, rule.id).active
    assert count(CouponCode) == 0 and count(AuditEntry, *NOT_SECURITY) == 0
    assert count(AuditEntry, AuditEntry.action == "admin.access") == len(posts)
    assert fresh(Participation, person.id).status == "flagged"


# Only your workspace (DESIGN invariant 7)


def test_invariant_7_a_marketer_of_workspace_b_cannot_see_customer_1_of_workspace_a(
    app: Flask, browser: Browser, factory: Factory
) -> None:
    """Can a marketer of workspace B see customer 1 of workspace A, its campaign's rules or
    participants, or change them? No: 404 for every id, and nothing in A changes."""
    brand_a = factory.workspace(name="Brand A")
    campaign = factory.campaign(brand_a, status="live")
    rule = add_rule(campaign, {"event": "purchase", "level": 1, "reward": "points", "amount": 5})
    person = join(campaign, "secret@brand-a.example", confirmed=True)
    marketer_b, _brand_b = factory.marketer(role="owner")
    assert browser.login(marketer_b.email).status_code == 302
    for path in (
        f"/admin/customers/{person.customer_id}",
        f"/admin/campaigns/{campaign.id}/rules",
        f"/admin/campaigns/{campaign.id}/participants",
    ):
        response = browser.client.get(path)
        assert response.status_code == 404, path
        assert "secret@brand-a.example" not in text_of(response)
    for path, data in (
        (f"/admin/campaigns/{campaign.id}/rules", rule_form(level="0")),
        (f"/admin/campaigns/{campaign.id}/rules/{rule.id}/deactivate", {}),
        (f"/admin/campaigns/{campaign.id}/coupons", {"codes": "STOLEN"}),
    ):
        assert browser.post(path, data).status_code == 404, path
    for path in ("/admin/customers", "/admin/review", "/admin/customers?q=secret"):
        assert "secret@brand-a.example" not in text_of(browser.client.get(path)), path
    assert count(RewardRule) == 1 and fresh(RewardRule, rule.id).active
    assert count(CouponCode) == 0
