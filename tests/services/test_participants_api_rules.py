"""Participants as the API adds, reads, lists and confirms them, asked of the services it
calls: who the referrer is, what is mailed, what a participant's numbers are, how the list
pages and filters. The HTTP shape is in tests/web/test_api_participants.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from referral import emails
from referral.extensions import db
from referral.models import Campaign, LedgerEntry, OutboxMessage, Participation
from referral.services.campaigns import close_campaign, create_campaign, publish_campaign
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, JoinResult, Visitor, join_campaign
from referral.services.participant_stats import participant_page, standing
from referral.services.rules import add_rule
from tests.factories import LOTTERY_RULES, Factory


def count(model: type, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def live(factory: Factory) -> Campaign:
    return factory.campaign(status="live")


def join(
    campaign: Campaign,
    email: str,
    code: str | None = None,
    visitor_id: str | None = None,
    **fields: Any,
) -> JoinResult:
    """A join as the API asks for one (channel ``api``, the confirmation e-mail to send)."""
    request = JoinRequest(email=email, referral_code=code, channel="api", **fields)
    return join_campaign(campaign, request, Visitor(visitor_id=visitor_id), emails.confirmation)


def joined(campaign: Campaign, email: str, code: str | None = None, **fields: Any) -> Participation:
    return join(campaign, email, code, **fields).participation


def points_rule(campaign: Campaign, event: str, level: int, amount: int) -> None:
    add_rule(campaign, {"event": event, "level": level, "reward": "points", "amount": amount})


# --- joining ---------------------------------------------------------------------------------


def test_a_new_participant_is_pending_without_a_referrer_or_numbers(live: Campaign) -> None:
    result = join(live, "Anna@Example.com", name="Anna Bell", locale="de")
    assert result.created
    anna = standing(result.participation)
    assert anna.customer.email == "anna@example.com"
    assert (anna.status, anna.referral_status, anna.referrer_id) == ("pending", "none", None)
    assert anna.depth == 0 and anna.confirmed_at is None
    assert (anna.referrals_confirmed, anna.points) == (0, 0)


def test_an_unconfirmed_participant_is_sent_a_confirmation_email(live: Campaign) -> None:
    assert join(live, "anna@example.com").token
    assert count(OutboxMessage, OutboxMessage.to_address == "anna@example.com") == 1


def test_a_participant_the_caller_confirmed_gets_no_email_and_is_confirmed(
    live: Campaign,
) -> None:
    anna = joined(live, "anna@example.com", confirmed=True)
    assert anna.status == "confirmed" and anna.confirmed_at is not None
    assert count(OutboxMessage) == 0


def test_the_same_address_in_another_spelling_is_the_existing_participant_unchanged(
    live: Campaign,
) -> None:
    first = join(live, "a.b@gmail.com")
    again = join(live, "AB+news@gmail.com", name="Someone else")
    assert (first.created, again.created) == (True, False)
    assert again.participation.id == first.participation.id
    assert again.participation.customer.name != "Someone else"
    assert count(Participation) == 1


def test_a_referral_code_makes_its_owner_the_referrer(live: Campaign) -> None:
    anna = joined(live, "anna@example.com", confirmed=True)
    ben = joined(live, "ben@example.com", anna.referral_code)
    assert (ben.referrer_id, ben.depth, ben.referral_status) == (anna.id, 1, "referred")


def test_an_unknown_code_joins_without_a_referrer_and_says_why(live: Campaign) -> None:
    ben = joined(live, "ben@example.com", "NOSUCHCODE")
    assert (ben.referrer_id, ben.referral_status) == (None, "unknown_code")


def test_a_code_of_another_campaign_is_an_unknown_code(factory: Factory, live: Campaign) -> None:
    anna = joined(factory.campaign(status="live"), "anna@example.com")
    ben = joined(live, "ben@example.com", anna.referral_code)
    assert (ben.referrer_id, ben.referral_status) == (None, "unknown_code")


def test_a_self_referral_from_the_same_device_joins_without_a_referrer_and_says_why(
    live: Campaign,
) -> None:
    anna = joined(live, "anna@example.com", visitor_id="device-1")
    alias = joined(live, "anna.other@example.com", anna.referral_code, visitor_id="device-1")
    assert (alias.referrer_id, alias.referral_status) == (None, "self_referral")
    friend = joined(live, "ben@example.com", anna.referral_code, visitor_id="device-2")
    assert friend.referral_status == "referred"


def test_the_visitor_id_is_stored_only_as_a_hash(live: Campaign) -> None:
    anna = joined(live, "anna@example.com", visitor_id="device-secret-1")
    db.session.expire_all()
    assert anna.visitor_hash and "device-secret-1" not in anna.visitor_hash


# --- reading and listing ---------------------------------------------------------------------


def test_a_participant_counts_confirmed_referrals_and_points(live: Campaign) -> None:
    points_rule(live, "signup_confirmed", 1, 100)
    anna = joined(live, "anna@example.com", confirmed=True)
    joined(live, "ben@example.com", anna.referral_code, confirmed=True)
    joined(live, "cleo@example.com", anna.referral_code)  # pending
    read = standing(anna)
    assert (read.referrals_confirmed, read.points) == (1, 100)
    assert read.id == anna.id


def test_participants_are_listed_oldest_first_page_by_page(
    factory: Factory, live: Campaign
) -> None:
    ids = [joined(live, f"p{n}@example.com").id for n in range(5)]
    joined(factory.campaign(status="live"), "elsewhere@example.com")
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = participant_page(live, None, 2, cursor)
        assert len(page.items) <= 2
        seen.extend(item.id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids


def test_the_list_shows_counts_and_can_filter_by_status(live: Campaign) -> None:
    points_rule(live, "signup_confirmed", 1, 5)
    anna = joined(live, "anna@example.com", confirmed=True)
    joined(live, "ben@example.com", anna.referral_code, confirmed=True)
    joined(live, "cleo@example.com")
    everyone = {p.customer.email: p for p in participant_page(live, None, None, None).items}
    assert (
        everyone["anna@example.com"].referrals_confirmed,
        everyone["anna@example.com"].points,
    ) == (1, 5)
    pending = participant_page(live, "pending", None, None).items
    assert [p.customer.email for p in pending] == ["cleo@example.com"]


# --- confirming ------------------------------------------------------------------------------


def test_confirming_pays_signup_confirmed_rules_once(live: Campaign) -> None:
    points_rule(live, "signup_confirmed", 0, 10)
    points_rule(live, "signup_confirmed", 1, 100)
    anna = joined(live, "anna@example.com", confirmed=True)
    ben = joined(live, "ben@example.com", anna.referral_code)
    confirmed, paid = confirm_participation(ben)
    assert confirmed.status == "confirmed" and confirmed.confirmed_at is not None
    assert standing(ben).points == 10 and len(paid) == 2
    again, paid_again = confirm_participation(ben)
    assert (again.confirmed_at, paid_again) == (confirmed.confirmed_at, [])
    # ben's 10 and anna's 100 for ben; anna came on her own, so her confirmation pays nothing
    assert standing(anna).points == 100
    assert count(LedgerEntry) == 2


def test_a_lottery_participant_holds_their_entries_and_once_frozen_their_entry_id(
    factory: Factory,
) -> None:
    lottery = create_campaign(
        factory.workspace(), {"name": "Bike draw", "kind": "lottery", "rules": LOTTERY_RULES}
    )
    publish_campaign(lottery)
    pending = joined(lottery, "pending@example.com")
    entrant = joined(lottery, "entrant@example.com", confirmed=True)
    open_entry = standing(entrant).entry
    assert open_entry is not None and (open_entry.entry_id, open_entry.entries) == (None, 1)
    pending_entry = standing(pending).entry
    assert pending_entry is not None and pending_entry.entries == 0
    close_campaign(lottery)
    frozen = standing(entrant).entry
    assert frozen is not None and frozen.entry_id and frozen.entries == 1
    assert standing(joined(factory.campaign(status="live"), "anna@example.com")).entry is None
