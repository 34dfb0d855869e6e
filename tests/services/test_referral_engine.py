"""The referral engine: attribution, confirmation, depth-capped rewards, pay-once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referral.domain.errors import Conflict, ValidationFailed
from referral.domain.rewards import NotConfirmed
from referral.extensions import db
from referral.models import Campaign, Event, LedgerEntry, Participation, RewardRule
from referral.models.base import utcnow
from referral.services.confirmation import confirm_by_token, confirm_participation
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.concurrency import race
from tests.factories import Factory
from tests.statements import sent_while


@pytest.fixture
def live(factory: Factory):
    return factory.campaign(status="live", reward_depth=1)


def join(campaign, email, code=None, **kw):
    return join_campaign(campaign, JoinRequest(email=email, referral_code=code, **kw), Visitor())


def ledger(**where):
    query = select(LedgerEntry)
    for name, value in where.items():
        query = query.where(getattr(LedgerEntry, name) == value)
    return list(db.session.scalars(query))


def test_joining_creates_a_pending_participation_with_a_code_and_a_confirmation_token(live) -> None:
    result = join(live, "Anna@Example.com")
    assert result.created
    assert result.participation.status == "pending"
    assert len(result.participation.referral_code) == 8
    assert result.token


def test_the_same_address_in_another_spelling_joins_once(live) -> None:
    first = join(live, "john.smith+promo@gmail.com")
    again = join(live, "JohnSmith@googlemail.com")
    assert not again.created
    assert again.participation.id == first.participation.id


def test_a_referral_code_makes_its_owner_the_referrer(live) -> None:
    advocate = join(live, "a@example.com").participation
    friend = join(live, "b@example.com", advocate.referral_code).participation
    assert friend.referrer_id == advocate.id
    assert friend.depth == 1
    assert friend.path == f"/{advocate.id}/"
    assert friend.referral_status == "referred"


@pytest.mark.parametrize("code", ["ZZZZZZZZ", "not-a-code"])
def test_an_unknown_code_joins_without_a_referrer_and_says_why(live, code) -> None:
    friend = join(live, "b@example.com", code).participation
    assert friend.referrer_id is None
    assert friend.referral_status == "unknown_code"


def test_a_code_of_another_campaign_does_not_refer(factory: Factory, live) -> None:
    other = factory.campaign(workspace=None, status="live")
    stranger = join(other, "a@example.com").participation
    friend = join(live, "b@example.com", stranger.referral_code).participation
    assert friend.referrer_id is None
    assert friend.referral_status == "unknown_code"


def test_the_same_browser_cannot_refer_itself(live) -> None:
    me = join_campaign(
        live, JoinRequest(email="me@example.com"), Visitor(visitor_id="v1")
    ).participation
    alias = join_campaign(
        live,
        JoinRequest(email="me.too@example.com", referral_code=me.referral_code),
        Visitor(visitor_id="v1"),
    ).participation
    assert alias.referrer_id is None
    assert alias.referral_status == "self_referral"


def test_a_touch_older_than_the_attribution_window_does_not_count(live) -> None:
    advocate = join(live, "a@example.com").participation
    late = join(
        live,
        "b@example.com",
        advocate.referral_code,
        touched_at=utcnow() - timedelta(days=live.attribution_days + 1),
    ).participation
    assert late.referrer_id is None
    assert late.referral_status == "expired"


def test_a_draft_campaign_refuses_sign_ups(factory: Factory) -> None:
    draft = factory.campaign(status="draft")
    with pytest.raises(Conflict):
        join(draft, "a@example.com")


def test_a_malformed_address_is_refused_and_nothing_is_stored(live) -> None:
    with pytest.raises(ValidationFailed) as error:
        join(live, "not an address")
    assert "email" in error.value.errors
    assert db.session.scalar(select(func.count()).select_from(Participation)) == 0


def test_confirming_by_token_pays_both_sides_once(live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 50})
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "b@example.com", advocate.referral_code)
    confirmed, first_use = confirm_by_token(friend.token)
    assert first_use and confirmed.status == "confirmed"
    again, second_use = confirm_by_token(friend.token)
    assert not second_use
    confirm_participation(again)
    assert [e.amount for e in ledger(participation_id=advocate.id, level=1)] == [100]
    assert [e.amount for e in ledger(participation_id=friend.participation.id)] == [50]


def _chain(campaign, length):
    nodes = [join(campaign, "n0@example.com", confirmed=True).participation]
    for i in range(1, length):
        nodes.append(
            join(
                campaign, f"n{i}@example.com", nodes[-1].referral_code, confirmed=True
            ).participation
        )
    return nodes


@pytest.mark.parametrize(
    "kind",
    ["signup_confirmed", "purchase", "trial_converted", "survey_completed", "lottery_entered"],
)
def test_reward_stops_at_depth_cap_on_a_six_level_chain(factory: Factory, kind: str) -> None:
    """Rules at every level exist (written straight to the database, past the save-time
    check); payment must still stop at min(reward_depth, ceiling) and at level 1 for sign-ups."""
    campaign = factory.campaign(status="live", reward_depth=2)
    nodes = _chain(campaign, 6)
    for level in range(4):
        db.session.add(
            RewardRule(
                campaign_id=campaign.id, event=kind, level=level, reward="points", amount=10**level
            )
        )
    db.session.commit()
    leaf = nodes[-1]
    if kind == "signup_confirmed":
        newcomer = join(campaign, "leaf@example.com", leaf.referral_code, confirmed=True)
        paid = newcomer.rewards
        actor = newcomer.participation
    else:
        paid = report_event(campaign, leaf, kind, external_id="x1").rewards
        actor = leaf
    levels = sorted(e.level for e in paid)
    expected = [0, 1, 2] if kind in ("purchase", "trial_converted") else [0, 1]
    assert levels == expected
    chain_ids = [actor.id, *reversed([int(x) for x in actor.path.strip("/").split("/")])]
    assert {e.participation_id for e in paid} == {chain_ids[level] for level in expected}


def test_invariant_2_depth_cap_rules_deeper_than_the_campaign_are_refused(factory: Factory) -> None:
    campaign = factory.campaign(status="live", reward_depth=1)
    with pytest.raises(ValidationFailed) as error:
        add_rule(campaign, {"event": "purchase", "level": 2, "reward": "points", "amount": 5})
    assert "level" in error.value.errors


def test_invariant_2_depth_cap_level_two_never_pays_for_sign_ups(factory: Factory) -> None:
    campaign = factory.campaign(status="live", reward_depth=2)
    with pytest.raises(ValidationFailed) as error:
        add_rule(
            campaign, {"event": "signup_confirmed", "level": 2, "reward": "points", "amount": 5}
        )
    assert "pyramid" in error.value.errors["level"][0]


def test_invariant_3_pay_once_for_the_same_external_id(live) -> None:
    add_rule(live, {"event": "purchase", "level": 1, "reward": "points", "amount": 500})
    advocate = join(live, "a@example.com", confirmed=True).participation
    buyer = join(live, "b@example.com", advocate.referral_code, confirmed=True).participation
    first = report_event(
        live, buyer, "purchase", amount=2500, currency="EUR", external_id="order-1"
    )
    again = report_event(
        live, buyer, "purchase", amount=2500, currency="EUR", external_id="order-1"
    )
    assert first.created and not again.created
    assert again.event.id == first.event.id
    assert [e.id for e in again.rewards] == [e.id for e in first.rewards]
    assert len(ledger(participation_id=advocate.id)) == 1


def test_invariant_3_pay_once_under_twenty_concurrent_purchases(app, live) -> None:
    add_rule(live, {"event": "purchase", "level": 0, "reward": "points", "amount": 10})
    add_rule(live, {"event": "purchase", "level": 1, "reward": "points", "amount": 500})
    advocate = join(live, "a@example.com", confirmed=True).participation
    buyer = join(live, "b@example.com", advocate.referral_code, confirmed=True).participation
    ids = (live.id, buyer.id)

    def work(_: int) -> None:
        campaign = db.session.get(Campaign, ids[0])
        person = db.session.get(Participation, ids[1])
        report_event(campaign, person, "purchase", amount=999, external_id="race-1")

    errors = race(app, 20, work)
    assert errors == []
    db.session.rollback()  # end the test's own read snapshot before counting
    purchases = db.session.scalar(select(func.count()).where(Event.kind == "purchase"))
    assert purchases == 1
    assert sorted(e.level for e in ledger()) == [0, 1]


def test_invariant_3_pay_once_under_twenty_concurrent_confirmations(app, live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "b@example.com", advocate.referral_code).participation
    pid = friend.id

    def work(_: int) -> None:
        confirm_participation(db.session.get(Participation, pid))

    errors = race(app, 20, work)
    assert errors == []
    db.session.rollback()  # end the test's own read snapshot before counting
    assert len(ledger(participation_id=advocate.id)) == 1
    assert (
        db.session.scalar(
            select(func.count()).where(
                Event.kind == "signup_confirmed", Event.participation_id == pid
            )
        )
        == 1
    )


def test_invariant_3_one_link_used_twenty_times_at_once_confirms_and_pays_once(app, live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "b@example.com", advocate.referral_code)
    pid, token = friend.participation.id, friend.token
    first_uses: list[bool] = []

    def work(_: int) -> None:
        first_uses.append(confirm_by_token(token)[1])

    errors = race(app, 20, work)
    assert errors == []
    assert sorted(first_uses) == [False] * 19 + [True]
    db.session.rollback()  # end the test's own read snapshot before counting
    assert len(ledger(participation_id=advocate.id)) == 1
    assert (
        db.session.scalar(
            select(func.count()).where(
                Event.kind == "signup_confirmed", Event.participation_id == pid
            )
        )
        == 1
    )


def test_a_milestone_pays_once_when_reached(live) -> None:
    add_rule(live, {"milestone": 3, "level": 0, "reward": "points", "amount": 1000})
    advocate = join(live, "a@example.com", confirmed=True).participation
    for i in range(4):
        join(live, f"f{i}@example.com", advocate.referral_code, confirmed=True)
    entries = ledger(participation_id=advocate.id)
    assert [e.amount for e in entries] == [1000]


def test_the_advocates_timeline_says_each_friend_confirmed_and_each_milestone_once(
    live,
) -> None:
    """referral_confirmed per confirmed friend, milestone_reached once per milestone rule:
    the events a journey ("your friend joined", "congratulations") starts on."""
    add_rule(live, {"milestone": 2, "level": 0, "reward": "points", "amount": 500})
    advocate = join(live, "a@example.com", confirmed=True).participation
    join(live, "pending@example.com", advocate.referral_code)  # not confirmed: nothing yet
    for i in range(3):
        join(live, f"f{i}@example.com", advocate.referral_code, confirmed=True)
    kinds = db.session.scalars(
        select(Event.kind).where(Event.participation_id == advocate.id).order_by(Event.id)
    ).all()
    assert kinds.count("referral_confirmed") == 3
    assert kinds.count("milestone_reached") == 1
    milestone = db.session.scalar(
        select(Event).where(
            Event.participation_id == advocate.id, Event.kind == "milestone_reached"
        )
    )
    assert milestone is not None and milestone.data["milestone"] == 2


def test_rewards_of_a_flagged_sign_up_are_held_for_review(live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    for i in range(4):
        join_campaign(
            live,
            JoinRequest(
                email=f"dup{i}@example.com", referral_code=advocate.referral_code, confirmed=True
            ),
            Visitor(ip="198.51.100.1", user_agent="bot"),
        )
    statuses = [e.status for e in ledger(participation_id=advocate.id)]
    assert statuses.count("approved") == 3
    assert statuses.count("pending") == 1


def test_a_per_advocate_cap_stops_further_referral_rewards(factory: Factory) -> None:
    campaign = factory.campaign(status="live", settings={"cap_count": 2})
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(campaign, "a@example.com", confirmed=True).participation
    for i in range(4):
        join(campaign, f"f{i}@example.com", advocate.referral_code, confirmed=True)
    assert len(ledger(participation_id=advocate.id)) == 2


def test_a_cap_counts_the_lines_one_event_has_just_paid(factory: Factory) -> None:
    """Two referral rules pay on the same confirmation; a cap of one line pays the first."""
    campaign = factory.campaign(status="live", reward_depth=1, settings={"cap_count": 1})
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 50})
    advocate = join(campaign, "a@example.com", confirmed=True).participation
    join(campaign, "f@example.com", advocate.referral_code, confirmed=True)
    assert [line.amount for line in ledger(participation_id=advocate.id)] == [100]


def test_every_line_one_event_pays_is_written_once_with_its_timeline_entry(live) -> None:
    """Without a cap the lines of one event are written together; each has its reward event."""
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 30})
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 5})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "f@example.com", advocate.referral_code).participation
    confirm_participation(friend)
    confirm_participation(friend)  # again: nothing more
    lines = {(line.participation_id, line.amount) for line in ledger()}
    assert lines == {(advocate.id, 100), (advocate.id, 30), (friend.id, 5)}
    granted = db.session.scalars(select(Event).where(Event.kind == "reward_granted")).all()
    assert sorted((e.participation_id, e.amount) for e in granted) == sorted(lines)


def test_a_confirmation_writes_its_friend_and_reward_entries_together_in_order(
    live,
) -> None:
    """The confirmation itself first (it decides whether anything is paid); then the
    referrer's "friend confirmed" and every reward's entry in one insert; a milestone the
    confirmation completes after them, with its own reward."""
    add_rule(live, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 5})
    add_rule(live, {"milestone": 1, "level": 0, "reward": "points", "amount": 500})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "f@example.com", advocate.referral_code).participation
    sent = [
        statement.lstrip() for statement, _ in sent_while(lambda: confirm_participation(friend))
    ]
    inserts = [statement for statement in sent if statement.startswith("INSERT INTO events")]
    recorded = db.session.execute(
        select(Event.kind, Event.participation_id, Event.amount)
        .where(Event.kind != "entered", Event.created_at >= friend.created_at)
        .order_by(Event.id)
    ).all()
    assert [tuple(row) for row in recorded] == [
        ("signup_confirmed", friend.id, None),
        ("referral_confirmed", advocate.id, None),
        ("reward_granted", advocate.id, 100),
        ("reward_granted", friend.id, 5),
        ("reward_granted", advocate.id, 500),  # the milestone of one confirmed friend
        ("milestone_reached", advocate.id, None),
    ]
    # The confirmation, the batch, then the milestone's reward and its "reached" entry.
    assert len(inserts) == 4


def test_confirming_a_person_nobody_referred_reads_no_referral_chain(live) -> None:
    """The person is read (and locked) once; with no referrer there is no chain to read."""
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 5})
    person = join(live, "alone@example.com").participation
    sent = [
        statement.lstrip() for statement, _ in sent_while(lambda: confirm_participation(person))
    ]
    reads = [s for s in sent if s.startswith("SELECT") and "FROM participations" in s]
    assert len(reads) == 1, reads  # the lock of the person's own row
    assert [line.participation_id for line in ledger()] == []  # level 0 pays only the referred


# Double opt-in: rewards flow only between people who confirmed their address


def test_an_unconfirmed_buyer_pays_their_referrer_nothing_and_nothing_is_recorded(live) -> None:
    add_rule(live, {"event": "purchase", "level": 0, "reward": "points", "amount": 10})
    add_rule(live, {"event": "purchase", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    buyer = join(live, "b@example.com", advocate.referral_code).participation
    assert buyer.status == "pending"
    with pytest.raises(NotConfirmed) as refused:
        report_event(live, buyer, "purchase", amount=2500, external_id="order-1")
    assert refused.value.status == 409
    assert "double opt-in" in refused.value.message
    assert ledger() == []
    assert db.session.scalar(select(func.count()).where(Event.kind == "purchase")) == 0


def test_after_confirming_a_purchase_pays_once(live) -> None:
    add_rule(live, {"event": "purchase", "level": 1, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "b@example.com", advocate.referral_code)
    with pytest.raises(NotConfirmed):
        report_event(live, friend.participation, "purchase", external_id="order-1")
    buyer, _ = confirm_by_token(friend.token)
    first = report_event(live, buyer, "purchase", external_id="order-1")
    again = report_event(live, buyer, "purchase", external_id="order-1")
    assert first.created and not again.created
    assert [(e.participation_id, e.amount) for e in first.rewards] == [(advocate.id, 100)]
    assert [e.amount for e in ledger(participation_id=advocate.id)] == [100]


def test_a_referrer_who_never_confirmed_receives_nothing(factory: Factory) -> None:
    campaign = factory.campaign(status="live", reward_depth=2)
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 5})
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 10})
    add_rule(campaign, {"event": "purchase", "level": 1, "reward": "points", "amount": 100})
    add_rule(campaign, {"event": "purchase", "level": 2, "reward": "points", "amount": 1000})
    root = join(campaign, "root@example.com", confirmed=True).participation
    middle = join(campaign, "middle@example.com", root.referral_code).participation
    buyer = join(campaign, "buyer@example.com", middle.referral_code, confirmed=True).participation
    reported = report_event(campaign, buyer, "purchase", external_id="order-1")
    assert {(e.participation_id, e.level) for e in reported.rewards} == {
        (buyer.id, 0),
        (root.id, 2),
    }
    assert ledger(participation_id=middle.id) == []  # neither for the sign-up nor the purchase


def test_a_milestone_reached_before_the_advocate_confirmed_pays_once_they_do(live) -> None:
    add_rule(live, {"milestone": 2, "level": 0, "reward": "points", "amount": 1000})
    advocate = join(live, "a@example.com")
    for i in range(3):
        join(live, f"f{i}@example.com", advocate.participation.referral_code, confirmed=True)
    assert ledger() == []
    confirm_by_token(advocate.token)
    confirm_participation(advocate.participation)
    assert [e.amount for e in ledger(participation_id=advocate.participation.id)] == [1000]


# "A referred friend confirms": level 0 is that friend, and only a friend someone referred


def test_a_referred_friend_gets_the_level_0_reward_of_their_confirmation(live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com", confirmed=True).participation
    friend = join(live, "b@example.com", advocate.referral_code, confirmed=True).participation
    assert [e.amount for e in ledger(participation_id=friend.id)] == [100]


def test_someone_nobody_referred_gets_no_level_0_reward_for_confirming(live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 100})
    loner = join(live, "a@example.com")
    confirm_by_token(loner.token)
    assert loner.participation.status == "confirmed"
    assert ledger() == []


def test_a_friend_of_an_unconfirmed_advocate_gets_no_level_0_reward(live) -> None:
    add_rule(live, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 100})
    advocate = join(live, "a@example.com").participation
    join(live, "b@example.com", advocate.referral_code, confirmed=True)
    assert ledger() == []


def test_a_held_reward_of_someone_unconfirmed_waits_for_their_confirmation(
    factory: Factory,
) -> None:
    """Only an older version paid people who had not confirmed; such a line is not approved
    when its hold period ends, but once they confirm."""
    from referral.services.rewards import approve_due

    campaign = factory.campaign(status="live", hold_days=14)
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 10})
    person = join(campaign, "a@example.com")
    purchase = Event(
        workspace_id=campaign.workspace_id,
        customer_id=person.participation.customer_id,
        campaign_id=campaign.id,
        participation_id=person.participation.id,
        kind="purchase",
        occurred_at=utcnow(),
    )
    db.session.add(purchase)
    db.session.flush()
    rule = db.session.scalar(select(RewardRule))
    line = LedgerEntry(
        participation_id=person.participation.id,
        source_event_id=purchase.id,
        rule_id=rule.id,
        level=0,
        reward="points",
        amount=10,
        status="pending",
        approve_after=utcnow() - timedelta(days=1),
    )
    db.session.add(line)
    db.session.commit()
    assert approve_due() == 0
    confirm_by_token(person.token)
    assert approve_due() == 1
    assert db.session.get(LedgerEntry, line.id).status == "approved"
