"""Every lookup of a sign-up is served by an index, and the fraud counts count the right rows.

A join with a referrer and its confirmation by its link run with rewards; each SELECT and UPDATE
they send is read back with SQLite's ``EXPLAIN QUERY PLAN``: none may scan a table, nor count a
campaign's participations through the campaign-wide index. The counts themselves are
checked against the rows they must and must not see, and the device index exists on both
databases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import inspect

from referral.extensions import db
from referral.models import Campaign, Participation, RewardRule
from referral.models.base import utcnow
from referral.services import fraud_signals
from referral.services.confirmation import confirm_by_token, confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory
from tests.statements import sent_while


@pytest.fixture
def live(factory: Factory) -> Campaign:
    campaign = factory.campaign(status="live", reward_depth=1)
    for level, amount in ((0, 50), (1, 100)):
        db.session.add(
            RewardRule(
                campaign_id=campaign.id,
                event="signup_confirmed",
                level=level,
                reward="points",
                amount=amount,
            )
        )
    db.session.commit()
    return campaign


def _join(campaign: Campaign, email: str, code: str | None = None, **visitor: str) -> Any:
    return join_campaign(
        campaign,
        JoinRequest(email=email, referral_code=code, consent_text="I agree", consent_version="1"),
        Visitor(**visitor),
    )


def _plans(sent: list[tuple[str, Any]]) -> list[tuple[str, list[str]]]:
    """Each SELECT and UPDATE sent, with the details of its query plan."""
    found = []
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        for statement, parameters in sent:
            words = statement.lstrip().split(None, 1)
            if not words or words[0].upper() not in ("SELECT", "UPDATE"):
                continue
            rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()).fetchall()
            found.append((statement, [row[-1] for row in rows]))
    return found


def _bad(detail: str) -> bool:
    """A step that reads a whole table or index, or every participation of a campaign."""
    scan = detail.startswith("SCAN ") and detail != "SCAN CONSTANT ROW"
    return scan or "ix_participations_campaign_id" in detail


def test_every_lookup_of_a_join_and_its_confirmation_uses_an_index(
    app: Any, live: Campaign
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; the index itself is checked on both")
    advocate = _join(live, "advocate@example.com", ip="10.0.0.1", user_agent="A")
    confirm_participation(advocate.participation)
    for n in range(3):  # other sign-ups of the campaign and of the address
        _join(live, f"other{n}@example.com", ip="10.0.0.2", user_agent=f"B{n}")
    code = advocate.participation.referral_code
    joined: list[Any] = []
    sent = sent_while(
        lambda: joined.append(
            _join(live, "friend@example.com", code, ip="10.0.0.2", user_agent="C")
        )
    )
    sent += sent_while(lambda: confirm_by_token(joined[0].token))  # the link, as a visitor
    plans = _plans(sent)
    assert any("participations" in statement for statement, _ in plans)  # the path was seen
    bad = [
        (statement, detail) for statement, details in plans for detail in details if _bad(detail)
    ]
    assert not bad, bad


@pytest.mark.parametrize("agent", ["hashed-agent", None])
@pytest.mark.parametrize("code", [True, False])
def test_the_same_device_count_is_read_from_the_device_index(
    app: Any, live: Campaign, agent: str | None, code: bool
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    known = agent is not None
    query = (
        fraud_signals._OWNER_QUERIES[(True, known)]
        if code
        else fraud_signals._DEVICE_QUERIES[known]
    )
    compiled = query.compile(dialect=db.engine.dialect)
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        params = compiled.params
        values = tuple(
            0 if params[name] is None else params[name] for name in compiled.positiontup or ()
        )
        rows = raw.execute(f"EXPLAIN QUERY PLAN {compiled}", values).fetchall()
    details = [row[-1] for row in rows]
    assert any("ix_participations_device" in detail for detail in details), details
    assert not [detail for detail in details if _bad(detail)], details


def _hashes(ip: str, agent: str | None) -> tuple[str | None, str | None]:
    ip_hash, agent_hash, _ = Visitor(ip=ip, user_agent=agent).hashes(
        current_app.config["SECRET_KEY"]
    )
    return ip_hash, agent_hash


def test_the_same_device_count_sees_the_address_and_browser_of_the_day_in_the_campaign(
    app: Any, factory: Factory, live: Campaign
) -> None:
    other_campaign = factory.campaign(status="live")
    _join(live, "a@example.com", ip="10.0.0.9", user_agent="Firefox")
    _join(live, "b@example.com", ip="10.0.0.9", user_agent="Firefox")
    _join(live, "c@example.com", ip="10.0.0.9", user_agent="Chrome")  # another browser
    _join(live, "d@example.com", ip="10.0.0.8", user_agent="Firefox")  # another address
    _join(other_campaign, "e@example.com", ip="10.0.0.9", user_agent="Firefox")
    old = _join(live, "f@example.com", ip="10.0.0.9", user_agent="Firefox").participation
    db.session.get(Participation, old.id).created_at = utcnow() - timedelta(days=2)
    _join(live, "g@example.com", ip="10.0.0.9")  # no user agent
    _join(live, "h@example.com", ip="10.0.0.9")
    db.session.commit()
    now = utcnow()

    def same_device(ip: str, agent: str | None) -> int:
        ip_hash, agent_hash = _hashes(ip, agent)
        return fraud_signals._same_device_count(live, ip_hash, agent_hash, now)

    assert same_device("10.0.0.9", "Firefox") == 2
    assert same_device("10.0.0.9", "Chrome") == 1
    assert same_device("10.0.0.8", "Firefox") == 1
    assert same_device("10.0.0.9", None) == 2
    assert same_device("10.0.0.7", "Firefox") == 0


def test_the_burst_count_sees_the_referrers_friends_of_the_last_hour(
    app: Any, live: Campaign
) -> None:
    advocate = _join(live, "advocate@example.com").participation
    code = advocate.referral_code
    for n in range(3):
        _join(live, f"friend{n}@example.com", code)
    earlier = _join(live, "earlier@example.com", code).participation
    db.session.get(Participation, earlier.id).created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    ip_hash, agent_hash = _hashes("10.1.1.1", "Safari")
    found = fraud_signals.lookup(live, code, ip_hash, agent_hash)
    assert (found.same_device, found.owner_burst) == (0, 3)
    found = fraud_signals.lookup(live, code, None, None)
    assert (found.same_device, found.owner_burst) == (0, 3)
    found = fraud_signals.lookup(live, None, None, None)
    assert (found.same_device, found.owner_burst) == (0, 0)


def test_the_device_index_exists_and_the_address_alone_has_none(app: Any) -> None:
    indexes = {
        index["name"]: index["column_names"]
        for index in inspect(db.engine).get_indexes("participations")
    }
    assert indexes["ix_participations_device"] == [
        "ip_hash",
        "campaign_id",
        "agent_hash",
        "created_at",
    ]
    assert "ix_participations_ip_hash" not in indexes


def test_the_lookup_of_a_code_brings_its_owner_and_both_counts_in_one_query(
    app: Any, live: Campaign
) -> None:
    advocate = _join(live, "advocate@example.com", ip="10.2.2.2", user_agent="Edge")
    owner = advocate.participation
    for n in range(2):
        _join(live, f"friend{n}@example.com", owner.referral_code, ip="10.2.2.3", user_agent="X")
    ip_hash, agent_hash = _hashes("10.2.2.3", "X")
    code, owner_id = owner.referral_code, owner.id
    db.session.refresh(live)  # loaded before the count of statements
    found: list[fraud_signals.Found] = []
    sent = sent_while(lambda: found.append(fraud_signals.lookup(live, code, ip_hash, agent_hash)))
    assert len([s for s, _ in sent if s.lstrip().upper().startswith("SELECT")]) == 1
    assert found[0].owner is not None and found[0].owner.id == owner_id
    assert (found[0].same_device, found[0].owner_burst) == (2, 2)
    unknown = fraud_signals.lookup(live, "NOSUCHCODE", ip_hash, agent_hash)
    assert (unknown.owner, unknown.same_device, unknown.owner_burst) == (None, 2, 0)
    assert fraud_signals.lookup(live, None, None, None) == fraud_signals.Found(None, 0, 0)


def test_the_owners_friends_count_only_when_the_owner_is_the_referrer(
    app: Any, live: Campaign
) -> None:
    owner = _join(live, "advocate@example.com").participation
    friends = fraud_signals.Found(owner, 0, 50)  # a burst under the owner
    assert fraud_signals.flag_reasons("x@example.com", friends, owner) == ["referral_burst"]
    assert fraud_signals.flag_reasons("x@example.com", friends, None) == []  # not attributed
