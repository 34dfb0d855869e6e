"""Subscription topics and the cadence of marketing mail (``domain.consent_topics``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from referral.domain.consent_topics import (
    BIRTHDAY,
    MARKETING,
    TRANSACTIONAL,
    Cap,
    ConsentEntry,
    Recipient,
    Verdict,
    check_send,
    checked_cap,
    in_holdout,
    latest_entry,
    subscribed_topics,
)
from referral.domain.errors import ValidationFailed
from referral.domain.journey_dates import QuietHours

NOW = datetime(2027, 6, 1, 10, tzinfo=UTC)  # 12:00 in Amsterdam
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NIGHT = QuietHours(time(21), time(8))


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def given(topic: str, days_ago: float) -> ConsentEntry:
    return ConsentEntry(topic, "given", at(days_ago))


def withdrawn(topic: str, days_ago: float) -> ConsentEntry:
    return ConsentEntry(topic, "withdrawn", at(days_ago))


EVERYTHING = Recipient(frozenset({TRANSACTIONAL, MARKETING, BIRTHDAY}), AMSTERDAM)


def recipient(**overrides: Any) -> Recipient:
    return replace(EVERYTHING, **overrides)


# Topics.


def test_without_any_record_only_transactional_mail_may_go() -> None:
    assert subscribed_topics([]) == {TRANSACTIONAL}


def test_an_explicit_marketing_opt_in_subscribes_to_marketing() -> None:
    assert subscribed_topics([given(MARKETING, 3)]) == {TRANSACTIONAL, MARKETING}


def test_a_later_withdrawal_wins() -> None:
    assert subscribed_topics([given(MARKETING, 3), withdrawn(MARKETING, 1)]) == {TRANSACTIONAL}


def test_a_later_opt_in_after_a_withdrawal_wins_again() -> None:
    records = [given(MARKETING, 9), withdrawn(MARKETING, 5), given(MARKETING, 1)]
    assert MARKETING in subscribed_topics(records)


def test_the_latest_by_time_wins_whatever_the_order_of_the_list() -> None:
    assert subscribed_topics([withdrawn(MARKETING, 1), given(MARKETING, 3)]) == {TRANSACTIONAL}


def test_on_the_same_instant_the_record_written_last_wins() -> None:
    same = at(1)
    records = [ConsentEntry(MARKETING, "given", same), ConsentEntry(MARKETING, "withdrawn", same)]
    assert latest_entry(records, MARKETING) == records[1]
    assert MARKETING not in subscribed_topics(records)


def test_birthday_mail_needs_its_own_opt_in() -> None:
    assert BIRTHDAY not in subscribed_topics([given(MARKETING, 1)])
    assert subscribed_topics([given(BIRTHDAY, 1)]) == {TRANSACTIONAL, BIRTHDAY}


def test_withdrawing_birthday_mail_leaves_marketing_as_it_was() -> None:
    records = [given(MARKETING, 5), given(BIRTHDAY, 5), withdrawn(BIRTHDAY, 1)]
    assert subscribed_topics(records) == {TRANSACTIONAL, MARKETING}


def test_transactional_mail_cannot_be_withdrawn_by_a_record() -> None:
    assert TRANSACTIONAL in subscribed_topics([withdrawn(TRANSACTIONAL, 1)])


def test_records_for_other_purposes_are_ignored() -> None:
    assert subscribed_topics([given("campaign_terms", 1)]) == {TRANSACTIONAL}


def test_latest_entry_of_a_topic_never_recorded_is_none() -> None:
    assert latest_entry([given(MARKETING, 1)], BIRTHDAY) is None


# Sending.


def test_a_consenting_customer_gets_the_mail() -> None:
    verdict = check_send(MARKETING, recipient(), NOW)
    assert verdict == Verdict("send") and verdict.sends and verdict.log_outcome == "sent"


def test_no_marketing_mail_without_consent() -> None:
    verdict = check_send(MARKETING, recipient(topics=frozenset({TRANSACTIONAL})), NOW)
    assert verdict == Verdict("skip", "no_consent")
    assert verdict.log_outcome == "skipped:no_consent"


def test_no_birthday_mail_with_only_a_marketing_opt_in() -> None:
    verdict = check_send(BIRTHDAY, recipient(topics=frozenset({TRANSACTIONAL, MARKETING})), NOW)
    assert verdict.reason == "no_consent"


def test_an_erased_customer_gets_nothing_not_even_transactional_mail() -> None:
    assert check_send(MARKETING, recipient(erased=True), NOW).reason == "erased"
    assert check_send(TRANSACTIONAL, recipient(erased=True), NOW).reason == "erased"


def test_a_customer_in_the_holdout_gets_no_journey_mail() -> None:
    assert check_send(MARKETING, recipient(held_out=True), NOW) == Verdict("skip", "holdout")


def test_transactional_mail_ignores_consent_caps_and_quiet_hours() -> None:
    busy = recipient(topics=frozenset({TRANSACTIONAL}), sent_at=[at(0.1)] * 5, held_out=True)
    night = datetime(2027, 6, 1, 22, tzinfo=UTC)
    assert check_send(TRANSACTIONAL, busy, night, quiet=NIGHT).sends


def test_inside_quiet_hours_the_mail_is_deferred_to_their_end() -> None:
    late = datetime(2027, 6, 1, 21, tzinfo=UTC)  # 23:00 in Amsterdam
    verdict = check_send(MARKETING, recipient(), late, quiet=NIGHT)
    assert verdict == Verdict("defer", "quiet_hours", datetime(2027, 6, 2, 6, tzinfo=UTC))
    assert verdict.log_outcome == "deferred:quiet_hours"


def test_quiet_hours_can_skip_instead() -> None:
    late = datetime(2027, 6, 1, 21, tzinfo=UTC)
    verdict = check_send(MARKETING, recipient(), late, quiet=QuietHours(time(21), time(8), False))
    assert verdict == Verdict("skip", "quiet_hours")


def test_quiet_hours_follow_the_customer_s_time_zone() -> None:
    """10:00 UTC is noon in Amsterdam but 22:00 in Auckland."""
    auckland = recipient(zone=ZoneInfo("Pacific/Auckland"))
    assert check_send(MARKETING, recipient(), NOW, quiet=NIGHT).sends
    assert check_send(MARKETING, auckland, NOW, quiet=NIGHT).outcome == "defer"


def test_without_consent_a_mail_is_skipped_not_deferred_in_quiet_hours() -> None:
    late = datetime(2027, 6, 1, 21, tzinfo=UTC)
    nobody = recipient(topics=frozenset({TRANSACTIONAL}))
    assert check_send(MARKETING, nobody, late, quiet=NIGHT).reason == "no_consent"


def test_the_workspace_cap_is_three_mails_in_seven_days_by_default() -> None:
    two = recipient(sent_at=[at(1), at(6)])
    three = recipient(sent_at=[at(1), at(3), at(6)])
    assert check_send(MARKETING, two, NOW).sends
    assert check_send(MARKETING, three, NOW) == Verdict("skip", "cap", scope="workspace")


def test_mail_older_than_the_window_does_not_count() -> None:
    assert check_send(MARKETING, recipient(sent_at=[at(1), at(3), at(7)]), NOW).sends
    assert check_send(MARKETING, recipient(sent_at=[at(1), at(3), at(8)]), NOW).sends


def test_a_workspace_can_set_its_own_cap() -> None:
    once_a_day = Cap(1, 1)
    assert not check_send(
        MARKETING, recipient(sent_at=[at(0.5)]), NOW, workspace_cap=once_a_day
    ).sends
    assert check_send(MARKETING, recipient(sent_at=[at(1.5)]), NOW, workspace_cap=once_a_day).sends


def test_the_journey_cap_counts_only_this_journey_s_mail() -> None:
    mine = recipient(sent_at=[at(1)], journey_sent_at=[at(1)])
    verdict = check_send(MARKETING, mine, NOW, journey_cap=Cap(1, 7))
    assert verdict == Verdict("skip", "cap", scope="journey")
    others = recipient(sent_at=[at(1)], journey_sent_at=[])
    assert check_send(MARKETING, others, NOW, journey_cap=Cap(1, 7)).sends


def test_a_mail_deferred_by_quiet_hours_is_checked_against_the_caps_when_it_goes() -> None:
    late = datetime(2027, 6, 1, 21, tzinfo=UTC)
    full = recipient(sent_at=[at(1), at(2), at(3)])
    assert check_send(MARKETING, full, late, quiet=NIGHT).outcome == "defer"
    morning = datetime(2027, 6, 2, 6, tzinfo=UTC)
    assert check_send(MARKETING, full, morning, quiet=NIGHT).reason == "cap"


def test_a_cap_from_a_form_is_checked() -> None:
    assert checked_cap(5, 14) == Cap(5, 14)
    with pytest.raises(ValidationFailed) as refused:
        checked_cap(0, True)
    assert refused.value.errors == {
        "limit": ["Use a whole number from 1 to 50 for limit."],
        "days": ["Use a whole number from 1 to 90 for days."],
    }


# Holdout.


def test_the_holdout_is_the_same_customers_every_time() -> None:
    picked = [c for c in range(2000) if in_holdout(3, c, 10)]
    assert picked == [c for c in range(2000) if in_holdout(3, c, 10)]


def test_the_holdout_is_close_to_its_share() -> None:
    share = sum(in_holdout(3, c, 10) for c in range(10_000)) / 10_000
    assert 0.08 < share < 0.12


def test_another_journey_holds_out_other_customers() -> None:
    first = {c for c in range(2000) if in_holdout(1, c, 20)}
    second = {c for c in range(2000) if in_holdout(2, c, 20)}
    assert first != second


def test_no_holdout_holds_out_nobody() -> None:
    assert not any(in_holdout(3, c, 0) for c in range(1000))
