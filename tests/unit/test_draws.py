"""The public draw `referral-draw-v1`: checked against an independent reading of docs/DRAWS.md."""

from __future__ import annotations

import copy
import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral.domain.draws import (
    ALGORITHM,
    DrawResult,
    Entry,
    canonical_entries,
    canonical_text,
    check_entry,
    commitment,
    draw,
    draw_record,
    entries_digest,
    new_seed,
    replace_winner,
    verify_record,
)
from referral.domain.errors import ValidationFailed

SEED = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
OTHER_SEED = "ff" * 32
BEACON = "drand-quicknet-round-123"
TWENTY = [Entry(f"e{i:02d}", i % 5 + 1) for i in range(20)]
TWENTY_DIGEST = "4e02886465e1fa031bea5e0ed25dba463823f107345b396c264880166674f7bb"


def reference_draw(
    seed_hex: str,
    digest_hex: str,
    entries: list[tuple[str, int]],
    winners: int,
    alternates: int,
    beacon: str = "",
) -> tuple[list[str], list[str], int]:
    """docs/DRAWS.md transcribed line by line, with the O(n) walk; also counts rejected blocks."""
    randomness = hashlib.sha256(
        bytes.fromhex(seed_hex) + bytes.fromhex(digest_hex) + beacon.encode("utf-8")
    ).digest()
    remaining = sorted(entries, key=lambda entry: entry[0].encode("utf-8"))
    picked: list[str] = []
    rejected = 0
    k = 0
    while len(picked) < winners + alternates and remaining:
        h = hmac.new(randomness, k.to_bytes(8, "big"), hashlib.sha256).digest()
        k += 1
        x = int.from_bytes(h, "big")
        total = sum(weight for _, weight in remaining)
        if x >= (2**256 // total) * total:
            rejected += 1
            continue
        r = x % total
        running = 0
        for entry in remaining:
            running += entry[1]
            if running > r:
                break
        remaining.remove(entry)  # "move it from remaining to the end of picked"
        picked.append(entry[0])
    return picked[:winners], picked[winners:], rejected


def reference_digest(entries: list[tuple[str, int]]) -> str:
    ordered = sorted(entries, key=lambda entry: entry[0].encode("utf-8"))
    return hashlib.sha256("".join(f"{i}:{w}\n" for i, w in ordered).encode("utf-8")).hexdigest()


def pairs(entries: list[Entry]) -> list[tuple[str, int]]:
    return [(entry.entry_id, entry.weight) for entry in entries]


def run_both(
    seed: str, entries: list[Entry], winners: int, alternates: int, beacon: str = ""
) -> tuple[DrawResult, tuple[list[str], list[str], int]]:
    digest = entries_digest(entries)
    ours = draw(seed, digest, entries, winners, alternates, beacon)
    return ours, reference_draw(seed, digest, pairs(entries), winners, alternates, beacon)


def published(entries: list[Entry] = TWENTY, beacon: str = "") -> dict:
    result = draw(SEED, entries_digest(entries), entries, 3, 2, beacon)
    return draw_record(
        "spring-lottery",
        seed_hex=SEED,
        entries=entries,
        beacon=beacon,
        winners_count=3,
        alternates_count=2,
        result=result,
        drawn_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )


def failed(record: dict) -> list[str]:
    report = verify_record(record)
    assert not report.ok
    return [check.name for check in report.failures]


# --- seed and commitment -------------------------------------------------------------------


def test_new_seed_is_64_lowercase_hex_and_never_repeats():
    seeds = {new_seed() for _ in range(50)}
    assert len(seeds) == 50
    assert all(len(seed) == 64 and seed == seed.lower() and bytes.fromhex(seed) for seed in seeds)


def test_invariant_4_fair_draws_the_commitment_is_the_sha256_of_the_seed_bytes():
    assert commitment(SEED) == hashlib.sha256(bytes(range(32))).hexdigest()
    assert commitment(SEED) != hashlib.sha256(SEED.encode()).hexdigest()


@pytest.mark.parametrize("seed", [SEED.upper(), SEED[:-2], SEED + "00", "zz" * 32, "", None, 7])
def test_a_seed_that_is_not_64_lowercase_hex_is_refused(seed):
    with pytest.raises(ValidationFailed) as caught:
        commitment(seed)
    assert "seed" in caught.value.errors


# --- entries and the canonical list ---------------------------------------------------------


def test_digest_of_a_known_small_list_equals_a_hand_computed_sha256():
    # printf 'B:1\na:2\n' | sha256sum
    expected = "93b7f13dea0824dc780a94f05ab6d3115344b20d69ae05f2ebb0052a580196af"
    entries = [Entry("a", 2), Entry("B", 1)]
    assert canonical_text(entries) == b"B:1\na:2\n"
    assert entries_digest(entries) == expected


def test_digest_of_no_entries_is_the_sha256_of_the_empty_text():
    assert entries_digest([]) == hashlib.sha256(b"").hexdigest()


def test_canonical_order_compares_utf8_bytes_so_capitals_come_before_underscore_and_lowercase():
    ids = ["a", "_", "Z", "B", "0", "-", "b9", "b10"]
    ordered = [entry.entry_id for entry in canonical_entries(Entry(i, 1) for i in ids)]
    assert ordered == ["-", "0", "B", "Z", "_", "a", "b10", "b9"]


def test_duplicate_entry_ids_are_rejected():
    with pytest.raises(ValidationFailed) as caught:
        canonical_entries([Entry("x", 1), Entry("y", 1), Entry("x", 2)])
    assert "entries" in caught.value.errors


@pytest.mark.parametrize("entry_id", ["", "a b", "a:b", "a\n", "é", "ä1", "a.b", None, 12])
def test_an_entry_id_outside_the_safe_alphabet_is_rejected(entry_id):
    with pytest.raises(ValidationFailed) as caught:
        Entry(entry_id, 1)
    assert "entry_id" in caught.value.errors


@pytest.mark.parametrize("weight", [0, -1, True, False, 1.0, "2", None])
def test_a_weight_that_is_not_a_positive_int_is_rejected(weight):
    with pytest.raises(ValidationFailed) as caught:
        check_entry("ok", weight)
    assert "weight" in caught.value.errors


def test_a_valid_entry_passes_its_check():
    check_entry("Az09_-", 10**30)
    assert Entry("Az09_-", 3).weight == 3


# --- the draw -------------------------------------------------------------------------------


def test_invariant_4_fair_draws_the_draw_matches_hard_coded_vectors_of_the_algorithm():
    # Computed once from the reference implementation (referral.domain.draws) and pasted here;
    # if this test fails, published draws no longer verify: add a v2 instead of editing v1.
    assert entries_digest(TWENTY) == TWENTY_DIGEST
    vectors = [
        (SEED, "", ["e19", "e08", "e07"], ["e03", "e04"]),
        (SEED, BEACON, ["e03", "e13", "e04"], ["e16", "e19"]),
        (OTHER_SEED, "", ["e04", "e16", "e09"], ["e03", "e08"]),
        (OTHER_SEED, BEACON, ["e04", "e14", "e12"], ["e03", "e05"]),
    ]
    for seed, beacon, winners, alternates in vectors:
        assert draw(seed, TWENTY_DIGEST, TWENTY, 3, 2, beacon) == DrawResult(winners, alternates)


def test_draw_matches_an_independent_implementation_on_fixed_vectors():
    for seed in (SEED, OTHER_SEED, "00" * 32):
        for beacon in ("", BEACON, "émoji ✓"):
            ours, (winners, alternates, _) = run_both(seed, TWENTY, 4, 3, beacon)
            assert (ours.winners, ours.alternates) == (winners, alternates)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    weights=st.dictionaries(
        st.text("AZaz09_-", min_size=1, max_size=4),
        st.one_of(st.integers(1, 5), st.integers(1, 10**12)),
        max_size=30,
    ),
    winners=st.integers(0, 8),
    alternates=st.integers(0, 8),
    beacon=st.text(max_size=10),
)
def test_draw_matches_an_independent_implementation_on_random_inputs(
    seed, weights, winners, alternates, beacon
):
    entries = [Entry(entry_id, weight) for entry_id, weight in weights.items()]
    ours, (ref_winners, ref_alternates, _) = run_both(
        seed.hex(), entries, winners, alternates, beacon
    )
    assert (ours.winners, ours.alternates) == (ref_winners, ref_alternates)
    assert entries_digest(entries) == reference_digest(pairs(entries))


def test_draw_matches_the_naive_walk_where_rejection_sampling_actually_rejects():
    # Totals just above 2**255 make about a third of all blocks land in the rejected sliver.
    entries = [Entry("a", 2**254 + 1), Entry("b", 2**254), Entry("c", 2**253), Entry("d", 7)]
    rejections = 0
    for number in range(20):
        seed = hashlib.sha256(f"seed {number}".encode()).hexdigest()
        ours, (winners, alternates, rejected) = run_both(seed, entries, 2, 2)
        assert (ours.winners, ours.alternates) == (winners, alternates)
        rejections += rejected
    assert rejections > 0


def test_draw_matches_the_naive_walk_on_a_long_list():
    rng = random.Random(7)
    entries = [Entry(f"entry-{i}", rng.randint(1, 9)) for i in range(3000)]
    ours, (winners, alternates, _) = run_both(SEED, entries, 25, 15)
    assert (ours.winners, ours.alternates) == (winners, alternates)


def test_draw_over_a_hundred_thousand_entries_picks_distinct_entries():
    entries = [Entry(f"p{i:06d}", 1 + i % 3) for i in range(100_000)]
    result = draw(SEED, entries_digest(entries), entries, 500, 500)
    picked = result.winners + result.alternates
    assert len(picked) == len(set(picked)) == 1000


def test_invariant_4_fair_draws_the_draw_does_not_depend_on_the_order_entries_are_given_in():
    shuffled = TWENTY[::-1]
    assert draw(SEED, TWENTY_DIGEST, shuffled, 3, 2) == draw(SEED, TWENTY_DIGEST, TWENTY, 3, 2)


def test_everyone_is_picked_when_winners_plus_alternates_reach_the_number_of_entries():
    entries = TWENTY[:6]
    for winners, alternates in [(6, 0), (4, 2), (3, 10), (0, 6), (10, 10)]:
        result = draw(SEED, entries_digest(entries), entries, winners, alternates)
        picked = result.winners + result.alternates
        assert sorted(picked) == [entry.entry_id for entry in entries]
        assert len(result.winners) == min(winners, 6)


def test_zero_winners_or_no_entries_give_empty_lists_without_crashing():
    assert draw(SEED, TWENTY_DIGEST, TWENTY, 0, 0) == DrawResult([], [])
    assert len(draw(SEED, TWENTY_DIGEST, TWENTY, 0, 2).alternates) == 2
    empty = entries_digest([])
    assert draw(SEED, empty, [], 3, 2) == DrawResult([], [])


def test_the_beacon_changes_the_outcome():
    plain = draw(SEED, TWENTY_DIGEST, TWENTY, 3, 2)
    assert draw(SEED, TWENTY_DIGEST, TWENTY, 3, 2, BEACON) != plain
    assert draw(SEED, TWENTY_DIGEST, TWENTY, 3, 2, "") == plain


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("seed", (SEED.upper(), TWENTY_DIGEST, TWENTY, 1, 0)),
        ("entries_digest", (SEED, "abc", TWENTY, 1, 0)),
        ("winners_count", (SEED, TWENTY_DIGEST, TWENTY, -1, 0)),
        ("alternates_count", (SEED, TWENTY_DIGEST, TWENTY, 1, True)),
        ("beacon", (SEED, TWENTY_DIGEST, TWENTY, 1, 0, None)),
        ("entries", (SEED, TWENTY_DIGEST, [Entry("a", 2**256), Entry("b", 1)], 1, 0)),
    ],
)
def test_draw_refuses_malformed_inputs_naming_the_field(field, arguments):
    with pytest.raises(ValidationFailed) as caught:
        draw(*arguments)
    assert field in caught.value.errors


def test_single_winner_odds_follow_the_weights_by_a_chi_square_test():
    # Reproducible: the seeds come from a seeded generator, so this never flakes.
    rng = random.Random(20261123)
    entries = [Entry("w1", 1), Entry("w2", 2), Entry("w3", 3), Entry("w4", 4)]
    digest = entries_digest(entries)
    draws = 3000
    counts = dict.fromkeys(("w1", "w2", "w3", "w4"), 0)
    for _ in range(draws):
        seed = rng.getrandbits(256).to_bytes(32, "big").hex()
        counts[draw(seed, digest, entries, 1, 0).winners[0]] += 1
    expected = {entry.entry_id: draws * entry.weight / 10 for entry in entries}
    chi_square = sum((counts[i] - expected[i]) ** 2 / expected[i] for i in counts)
    assert chi_square < 16.27  # the 0.999 quantile of chi-square with 3 degrees of freedom


# --- the published record and its verification ---------------------------------------------


def test_the_record_has_the_fields_of_draws_md_in_order_and_verifies():
    record = published(beacon=BEACON)
    assert list(record) == [
        "algorithm",
        "campaign_id",
        "commitment",
        "seed",
        "entries_digest",
        "beacon",
        "winners_count",
        "alternates_count",
        "entries",
        "winners",
        "alternates",
        "drawn_at",
    ]
    assert record["algorithm"] == ALGORITHM
    assert record["entries"][:2] == [{"id": "e00", "weight": 1}, {"id": "e01", "weight": 2}]
    assert record["drawn_at"] == "2026-11-23T12:00:00+00:00"
    report = verify_record(record)
    assert report.ok
    assert [check.name for check in report.checks] == [
        "algorithm",
        "commitment",
        "entries_digest",
        "winners",
        "alternates",
    ]


def test_the_record_writes_drawn_at_in_utc_and_refuses_a_naive_time():
    paris = datetime(2026, 11, 23, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    record = draw_record(
        "c",
        seed_hex=SEED,
        entries=TWENTY,
        beacon="",
        winners_count=0,
        alternates_count=0,
        result=DrawResult([], []),
        drawn_at=paris,
    )
    assert record["drawn_at"] == "2026-11-23T12:00:00+00:00"
    with pytest.raises(ValidationFailed):
        draw_record(
            "c",
            seed_hex=SEED,
            entries=TWENTY,
            beacon="",
            winners_count=0,
            alternates_count=0,
            result=DrawResult([], []),
            drawn_at=datetime(2026, 11, 23, 12, 0),
        )


def test_a_record_with_its_entries_out_of_canonical_order_still_verifies():
    record = published()
    record["entries"].reverse()
    assert verify_record(record).ok


def test_a_tampered_seed_fails_the_commitment_check():
    record = published()
    record["seed"] = OTHER_SEED
    assert "commitment" in failed(record)
    report = verify_record(record)
    assert report.checks[1].message == "the seed does not hash to the published commitment"


def test_a_seed_swapped_together_with_its_commitment_fails_the_winners_check():
    record = published()
    record["seed"], record["commitment"] = OTHER_SEED, commitment(OTHER_SEED)
    assert failed(record) == ["winners", "alternates"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda entries: entries[0].update(weight=50), id="weight-changed"),
        pytest.param(lambda entries: entries.append({"id": "late", "weight": 1}), id="added"),
        pytest.param(lambda entries: entries.pop(7), id="removed"),
    ],
)
def test_a_tampered_entry_list_fails_the_entries_digest_check(tamper):
    record = published()
    tamper(record["entries"])
    assert failed(record)[0] == "entries_digest"
    message = verify_record(record).checks[2].message
    assert message == "the entries do not hash to the published entries digest"


def test_tampered_winners_fail_the_winners_check_only():
    record = published()
    record["winners"][1] = "e00" if record["winners"][1] != "e00" else "e01"
    assert failed(record) == ["winners"]
    assert "at position 2" in verify_record(record).failures[0].message


def test_tampered_alternates_fail_the_alternates_check_only():
    record = published()
    record["alternates"] = record["alternates"][::-1]
    assert failed(record) == ["alternates"]
    record["alternates"] = record["alternates"][:1]
    assert failed(record) == ["alternates"]


def test_a_swapped_beacon_or_count_fails_the_draw_checks():
    record = published(beacon=BEACON)
    assert "winners" in failed({**record, "beacon": ""})
    assert failed({**record, "winners_count": 2}) == ["winners", "alternates"]


def test_an_entry_list_with_a_duplicate_fails_verification_with_a_reason():
    record = published()
    record["entries"].append(dict(record["entries"][0]))
    report = verify_record(record)
    assert [check.name for check in report.failures] == ["entries_digest", "winners", "alternates"]
    assert "appears twice" in report.failures[0].message


def test_another_algorithm_is_reported_not_re_run():
    record = {**published(), "algorithm": "referral-draw-v2"}
    report = verify_record(record)
    assert not report.ok
    assert report.checks == [report.checks[0]]
    assert report.checks[0].name == "algorithm"
    assert "referral-draw-v2" in report.checks[0].message


def _without(field: str) -> dict:
    record = published()
    del record[field]
    return record


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(None, id="none"),
        pytest.param([], id="list"),
        pytest.param({}, id="empty"),
        pytest.param(_without("seed"), id="no-seed"),
        pytest.param(_without("alternates"), id="no-alternates"),
        pytest.param({**published(), "winners_count": "3"}, id="count-as-text"),
        pytest.param({**published(), "winners_count": -1}, id="negative-count"),
        pytest.param({**published(), "alternates_count": True}, id="count-as-bool"),
        pytest.param({**published(), "seed": 5}, id="seed-as-number"),
        pytest.param({**published(), "entries": "e00:1\n"}, id="entries-as-text"),
        pytest.param({**published(), "entries": ["e00"]}, id="entry-as-text"),
        pytest.param({**published(), "entries": [{"id": "e00"}]}, id="entry-without-weight"),
        pytest.param({**published(), "winners": [1, 2, 3]}, id="winner-as-number"),
        pytest.param({**published(), "alternates": None}, id="alternates-null"),
    ],
)
def test_a_malformed_record_gives_a_failed_report_never_an_exception(record):
    report = verify_record(copy.deepcopy(record))
    assert not report.ok
    assert report.failures[0].name == "record"
    assert report.failures[0].message


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "e00", "weight": True},
        {"id": "e00", "weight": "1"},
        {"id": "e 00", "weight": 1},
        {"id": ["e00"], "weight": 1},
        {"id": "e00", "weight": 10**5000},
    ],
)
def test_a_malformed_entry_gives_a_failed_report_never_an_exception(entry):
    record = published()
    record["entries"][0] = entry
    assert failed(record) == ["entries_digest", "winners", "alternates"]


def test_a_non_ascii_commitment_fails_instead_of_raising():
    assert failed({**published(), "commitment": "é" * 64}) == ["commitment"]


# --- after the draw -------------------------------------------------------------------------


def test_a_disqualified_winner_is_replaced_by_the_next_unused_alternate_in_order():
    winners, alternates = ["w1", "w2"], ["a1", "a2"]
    assert replace_winner(winners, alternates, [], "w2") == "a1"
    assert replace_winner(winners, alternates, ["a1"], "w1") == "a2"
    assert replace_winner(winners, alternates, ["a1"], "a1") == "a2"  # a promoted alternate
    assert replace_winner(winners, alternates, ["a1", "a2"], "w1") is None


def test_only_a_current_winner_can_be_replaced():
    with pytest.raises(ValidationFailed) as caught:
        replace_winner(["w1"], ["a1", "a2"], [], "a2")
    assert "entry_id" in caught.value.errors
