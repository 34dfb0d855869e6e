"""Referral codes: short, unguessable and unambiguous when read aloud or off a poster."""

from __future__ import annotations

import secrets

# No 0/O, 1/l/I: people copy codes by hand from printed QR cards.
ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8  # 56**8 ≈ 9.7e13 codes: guessing one among a million takes ~1e8 tries.
MAX_LENGTH = 32  # what the column holds (participations.referral_code)


def new_code(length: int = LENGTH) -> str:
    """A fresh random code from a CSPRNG."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def is_well_formed(code: str) -> bool:
    """Whether ``code`` could be one of ours (cheap check before any database lookup)."""
    return (
        isinstance(code, str) and 4 <= len(code) <= MAX_LENGTH and all(c in ALPHABET for c in code)
    )
