"""What the back office's engine pages read and decide, asked of the services: the coupon
pool, the participants' table (filters, search, pages, numbers), the customer list and
page, and the review queue's decisions. The pages themselves (HTML, roles, forms) are in
tests/web/test_admin_engine.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.domain.errors import ValidationFailed
from referral.extensions import db
from referral.models import AuditEntry, Campaign, LedgerEntry, Participation, Workspace
from referral.models.messaging import CouponCode
from referral.services.coupons import add_coupons, coupon_counts
from referral.services.participants import (
    customer_view,
    find_customers,
    leaderboard,
    list_participants,
    referral_stats,
)
from referral.services.review import decide, void_entry
from referral.services.review_queue import recent_decisions, review_queue
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import Factory, add_click
from tests.scenarios import device_burst, join, referred_buyer, three_friends

NOW = datetime.now(UTC)


def count(model: Any, *where: Any) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def fresh(model: Any, ident: int) -> Any:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(model, ident)


def points(campaign: Campaign, event: str, level: int, amount: int) -> None:
    add_rule(campaign, {"event": event, "level": level, "reward": "points", "amount": amount})


@pytest.fixture
def workspace(factory: Factory) -> Workspace:
    return factory.workspace()


@pytest.fixture
def campaign(factory: Factory, workspace: Workspace) -> Campaign:
    return factory.campaign(workspace, status="live", name="Spring bikes")


# --- the coupon pool -------------------------------------------------------------------------


def test_coupon_codes_are_trimmed_deduplicated_and_counted(campaign: Campaign) -> None:
    assert add_coupons(campaign, [" A1 ", "A1", "B2", "", "c3"]) == 3
    assert add_coupons(campaign, ["B2", "D4"]) == 1
    assert coupon_counts(campaign) == {"total": 4, "used": 0, "remaining": 4}


def test_a_coupon_code_too_long_refuses_the_whole_upload(campaign: Campaign) -> None:
    with pytest.raises(ValidationFailed) as error:
        add_coupons(campaign, ["OK1", "X" * 65])
    assert "codes" in error.value.errors
    assert count(CouponCode) == 0


def test_concurrent_uploads_of_overlapping_codes_store_each_code_once(
    app: Flask, campaign: Campaign
) -> None:
    campaign_id = campaign.id
    added: list[int] = []

    def upload(n: int) -> None:
        found = db.session.get(Campaign, campaign_id)
        start = n * 5
        added.append(add_coupons(found, [f"C{i}" for i in range(start, start + 20)]))

    errors = race(app, 6, upload)
    assert errors == []
    assert count(CouponCode) == 45  # C0 … C44
    assert sum(added) == 45


def test_a_coupon_reward_uses_a_code_from_the_pool(campaign: Campaign) -> None:
    add_coupons(campaign, ["ONLY-ONE", "SECOND"])
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "coupon", "amount": 1})
    advocate = join(campaign, "advocate@example.com", confirmed=True)  # came on their own
    join(campaign, "a@example.com", advocate.referral_code, confirmed=True)
    assert coupon_counts(campaign) == {"total": 2, "used": 1, "remaining": 1}


# --- the participants of a campaign ----------------------------------------------------------


@pytest.fixture
def spread(campaign: Campaign) -> dict[str, Participation]:
    """An advocate with two confirmed friends and one pending, paid 100 points per friend."""
    return three_friends(campaign)


def names(page: Any) -> list[str]:
    return sorted(row.customer.email.split("@")[0] for row in page.rows)


def test_each_participant_row_carries_the_referrer_referrals_and_points(
    campaign: Campaign, spread: dict[str, Participation]
) -> None:
    rows = {r.customer.email: r for r in list_participants(campaign).rows}
    anna, ben = rows["anna@example.com"], rows["ben@example.com"]
    assert (anna.referrer_email, anna.participation.depth) == (None, 0)
    assert (anna.confirmed_referrals, anna.points) == (2, 200)
    assert (ben.referrer_email, ben.participation.depth, ben.participation.channel) == (
        "anna@example.com",
        1,
        "whatsapp",
    )
    assert (ben.confirmed_referrals, ben.points) == (0, 0)
    assert rows["dan@example.com"].participation.status == "pending"


@pytest.mark.parametrize(
    ("status", "search", "expected"),
    [
        ("pending", "", ["dan"]),
        ("confirmed", "BEN", ["ben"]),
        ("flagged", "example.com", []),
        (None, "cle", ["cleo"]),
        (None, "\x00cle\x00", ["cleo"]),  # PostgreSQL refuses NUL in text: dropped first
        (None, "\ufffe" + "x" * 5000, []),
    ],
)
def test_participants_are_filtered_by_status_and_searched_by_address(
    campaign: Campaign,
    spread: dict[str, Participation],
    status: str | None,
    search: str,
    expected: list[str],
) -> None:
    assert names(list_participants(campaign, status, search)) == expected


def test_participants_are_found_by_their_whole_referral_code(
    campaign: Campaign, spread: dict[str, Participation]
) -> None:
    assert names(list_participants(campaign, search=spread["cleo"].referral_code)) == ["cleo"]
    assert names(list_participants(campaign, search=spread["cleo"].referral_code[:-1])) == []


def test_participants_are_paged_fifty_at_a_time_and_a_page_past_the_end_is_the_last(
    factory: Factory, campaign: Campaign
) -> None:
    for _n in range(53):
        factory.participation(campaign)
    first = list_participants(campaign)
    assert (len(first.rows), first.page, first.pages, first.has_next) == (50, 1, 2, True)
    assert len(list_participants(campaign, page=2).rows) == 3
    beyond = list_participants(campaign, page=99)
    assert (len(beyond.rows), beyond.page) == (3, 2)
    assert list_participants(campaign, page=-3).page == 1


def test_the_referral_counts_and_the_top_advocates(
    campaign: Campaign, spread: dict[str, Participation]
) -> None:
    for _n in range(3):
        add_click(spread["anna"], NOW)
    db.session.commit()
    assert referral_stats(campaign) == {"clicks": 3, "joins": 3, "confirmed": 2}
    top = leaderboard(campaign)[0]
    assert (top["email"], top["customer_id"]) == ("anna@example.com", spread["anna"].customer_id)
    assert top["participation_id"] == spread["anna"].id


# --- customers -------------------------------------------------------------------------------


@pytest.fixture
def story(campaign: Campaign) -> Participation:
    """A referred customer who consented, confirmed, bought, and was rewarded."""
    return referred_buyer(campaign)


def test_the_customer_list_searches_by_address_and_name(
    workspace: Workspace, story: Participation, spread: dict[str, Participation]
) -> None:
    def found(search: str) -> list[str]:
        return [c.email for c, _n in find_customers(workspace.id, search).rows]

    assert found("muster") == ["eva.muster@example.com"]
    assert found("ANNA") == ["anna@example.com"]
    assert found("Eva M") == ["eva.muster@example.com"]  # the name
    assert find_customers(workspace.id).total == 6  # Otto and Eva, and the four of the spread
    assert find_customers(workspace.id, "\x00" + "x" * 5000).total == 0


def test_the_customer_page_holds_the_exact_consent_and_every_event_in_order(
    story: Participation,
) -> None:
    view = customer_view(story.customer)
    [(consent, campaign_name)] = view["consents"]
    assert consent.text == "I agree to the official rules and to e-mails about this campaign."
    assert (consent.version, campaign_name) == ("2024-03", "Spring bikes")
    assert consent.given_at is not None
    told = [
        (e.kind, e.amount, e.data.get("reward"), e.data.get("level")) for e, _ in view["timeline"]
    ]
    assert told == [
        ("entered", None, None, None),
        ("signup_confirmed", None, None, None),
        ("reward_granted", 50, "points", 0),  # as the person who acts
        ("purchase", 2500, None, None),
        ("reward_granted", 300, "points", 0),
    ]
    assert {name for _event, name in view["timeline"]} == {"Spring bikes"}
    purchase = view["timeline"][3][0]
    assert (purchase.amount, purchase.currency, purchase.external_id) == (2500, "EUR", "order-77")
    assert not view["timeline_truncated"]


def test_the_customer_page_lists_ledger_entries_with_status_and_reason(
    workspace: Workspace, story: Participation
) -> None:
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.amount == 300))
    void_entry(entry, "Order returned", None, workspace.id)
    db.session.commit()
    ledger = customer_view(story.customer)["ledger"]
    assert [(e.amount, e.status, e.reason, name) for e, name, _cur in ledger] == [
        (50, "approved", "", "Spring bikes"),
        (300, "void", "Order returned", "Spring bikes"),
    ]


# --- the review queue ------------------------------------------------------------------------


@pytest.fixture
def flagged(campaign: Campaign) -> dict[str, Participation]:
    """An advocate with a flagged burst of friends from one device, and a throwaway address."""
    return device_burst(campaign)


def held(participation_id: int) -> list[str]:
    db.session.commit()
    query = select(LedgerEntry.status).where(LedgerEntry.participation_id == participation_id)
    return sorted(db.session.scalars(query))


def test_the_queue_holds_the_flagged_sign_ups_with_their_reasons_and_referrer(
    workspace: Workspace, flagged: dict[str, Participation]
) -> None:
    queue = {person.email: (p, c, person) for p, c, person in review_queue(workspace.id)}
    assert set(queue) == {"friend3@example.com", "temp@mailinator.com"}
    device, campaign, person = queue["friend3@example.com"]
    assert device.flag_reasons and campaign.name == "Spring bikes"
    assert person.referrer_email == "ada@example.com"
    assert queue["temp@mailinator.com"][0].flag_reasons == ["disposable_email"]


def test_approving_confirms_the_participant_and_approves_held_rewards(
    workspace: Workspace, flagged: dict[str, Participation]
) -> None:
    device, advocate = flagged["device"], flagged["advocate"]
    assert held(advocate.id) == ["approved", "approved", "approved", "pending"]
    assert decide(workspace.id, [device.id], "approve", None) == 1
    assert fresh(Participation, device.id).status == "confirmed"
    assert held(advocate.id) == ["approved"] * 4
    [decision] = recent_decisions(workspace.id)
    assert decision.decision == "approve"
    assert decision.person is not None and decision.person.email == "friend3@example.com"


def test_rejecting_excludes_the_participant_and_voids_their_rewards_with_the_reason(
    workspace: Workspace, flagged: dict[str, Participation]
) -> None:
    device, advocate = flagged["device"], flagged["advocate"]
    decide(workspace.id, [device.id], "reject", None, "Same person, four addresses")
    assert fresh(Participation, device.id).status == "rejected"
    assert held(advocate.id) == ["approved", "approved", "approved", "void"]
    void = db.session.scalar(select(LedgerEntry).where(LedgerEntry.status == "void"))
    assert void.reason == "Same person, four addresses"
    [decision] = recent_decisions(workspace.id)
    assert decision.entry.data["reason"] == "Same person, four addresses"


def test_a_bulk_decision_is_logged_once_per_participant_with_the_marketer(
    factory: Factory,
) -> None:
    marketer, workspace = factory.marketer("owner")
    campaign = factory.campaign(workspace, status="live")
    first = factory.participation(campaign, status="flagged", flag_reasons=["referral_burst"])
    second = factory.participation(campaign, status="flagged", flag_reasons=["disposable_email"])
    stays = factory.participation(campaign, status="flagged")
    assert decide(workspace.id, [first.id, second.id], "reject", marketer) == 2
    assert [fresh(Participation, p.id).status for p in (first, second, stays)] == [
        "rejected",
        "rejected",
        "flagged",
    ]
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.subject, e.marketer_id, e.workspace_id) for e in entries] == [
        ("review.reject", f"participation:{first.id}", marketer.id, workspace.id),
        ("review.reject", f"participation:{second.id}", marketer.id, workspace.id),
    ]
    assert [d.entry.data["flags"] for d in recent_decisions(workspace.id)] == [
        ["disposable_email"],
        ["referral_burst"],
    ]


def test_only_the_last_twenty_decisions_are_read(factory: Factory) -> None:
    workspace = factory.workspace()
    campaign = factory.campaign(workspace, status="live")
    people = [factory.participation(campaign, status="flagged") for _n in range(22)]
    assert decide(workspace.id, [p.id for p in people], "approve", None) == 22
    decisions = recent_decisions(workspace.id)
    assert len(decisions) == 20
    assert decisions[0].entry.subject == f"participation:{people[-1].id}"  # newest first


def test_an_unknown_decision_is_refused_and_decides_nothing(
    workspace: Workspace, flagged: dict[str, Participation]
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        decide(workspace.id, [flagged["device"].id], "pardon", None)
    assert set(raised.value.errors) == {"decision"}
    assert count(AuditEntry) == 0
    assert fresh(Participation, flagged["device"].id).status == "flagged"


def test_a_decision_about_another_workspaces_participant_changes_nothing(
    factory: Factory,
) -> None:
    """Can a marketer of workspace B approve a flagged sign-up of workspace A? No."""
    marketer, workspace_b = factory.marketer("owner")
    theirs = factory.participation(factory.campaign(factory.workspace()), status="flagged")
    assert decide(workspace_b.id, [theirs.id], "approve", marketer) == 0
    assert fresh(Participation, theirs.id).status == "flagged"
    assert count(AuditEntry) == 0
    assert review_queue(workspace_b.id) == []
