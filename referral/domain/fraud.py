"""Fraud guards: block only what is certainly a duplicate; flag the rest and hold rewards.

Signals (each a reason string stored on the participation):
- ``disposable_email``: the address is at a throwaway-mail domain (the campaign chooses to
  flag or to block these);
- ``many_signups_same_device``: several sign-ups from one hashed IP and user agent within a day;
- ``referral_burst``: an unusual number of referrals under one referrer within an hour.
A flagged participation can take part, but the rewards it triggers wait for a marketer's
review; nothing is paid for it automatically.
"""

from __future__ import annotations

from dataclasses import dataclass

DISPOSABLE = "disposable_email"
SAME_DEVICE = "many_signups_same_device"
BURST = "referral_burst"

SAME_DEVICE_LIMIT = 3  # sign-ups per IP+agent in 24 h before flagging (families share Wi-Fi)
BURST_LIMIT = 10  # referrals per referrer in one hour


@dataclass(frozen=True)
class Signals:
    disposable_domain: bool
    same_device_recent: int
    referrer_recent: int


def flag_reasons(signals: Signals) -> list[str]:
    """The reasons to hold this sign-up for review (empty: nothing suspicious)."""
    reasons = []
    if signals.disposable_domain:
        reasons.append(DISPOSABLE)
    if signals.same_device_recent >= SAME_DEVICE_LIMIT:
        reasons.append(SAME_DEVICE)
    if signals.referrer_recent >= BURST_LIMIT:
        reasons.append(BURST)
    return reasons
