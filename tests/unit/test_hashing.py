"""Keyed hashes are plain functions of (secret, value, purpose)."""

from __future__ import annotations

import hashlib

from referral import hashing


def test_a_keyed_hash_is_stable_and_depends_on_secret_and_purpose() -> None:
    one = hashing.keyed_hash("s1", "203.0.113.9", "ip")
    assert one == hashing.keyed_hash("s1", "203.0.113.9", "ip")
    assert one != hashing.keyed_hash("s2", "203.0.113.9", "ip")
    assert one != hashing.keyed_hash("s1", "203.0.113.9", "agent")
    assert "203.0.113.9" not in one and len(one) == 64


def test_an_absent_ip_stays_absent() -> None:
    assert hashing.hash_ip("s", None) is None
    assert hashing.hash_ip("s", "") is None
    assert hashing.hash_ip("s", "::1") == hashing.keyed_hash("s", "::1", "ip")


def test_api_keys_are_stored_as_their_sha256() -> None:
    key = hashing.new_api_key()
    assert key.startswith(hashing.API_KEY_PREFIX) and len(key) == 43
    assert key != hashing.new_api_key()
    assert hashing.digest_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    other = key[:-1] + ("y" if key.endswith("x") else "x")  # one character changed
    assert hashing.same_secret(key, key) and not hashing.same_secret(key, other)
