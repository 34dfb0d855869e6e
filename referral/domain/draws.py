"""Prize draws anyone can check: the algorithm ``referral-draw-v1`` of docs/DRAWS.md.

The seed's SHA-256 (the commitment) is public from the opening, the entries' digest from the
close, and the draw is a pure function of seed, digest, beacon and counts: anyone can re-run
a published record with ``verify_record``. Changing a rule here breaks every published draw;
add a ``v2`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from referral.domain.errors import N_, DomainError, ValidationFailed

ALGORITHM = "referral-draw-v1"

_HEX32 = re.compile(r"[0-9a-f]{64}")
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
_SPACE = 2**256  # HMAC-SHA256 outputs are uniform on 0 <= x < 2**256


def _hex32(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise ValidationFailed.on(
            field, N_("The %(field)s must be 64 lowercase hex characters."), {"field": field}
        )
    return bytes.fromhex(value)


def new_seed() -> str:
    """A fresh secret seed: 32 bytes from a CSPRNG as 64 lowercase hex characters."""
    return secrets.token_bytes(32).hex()


def commitment(seed_hex: str) -> str:
    """The public commitment: lowercase hex SHA-256 of the 32 seed bytes (not of the hex text).

    :raise ValidationFailed: on field ``seed`` unless it is exactly 64 lowercase hex
        characters (upper case is refused so that every seed has one spelling).
    """
    return hashlib.sha256(_hex32(seed_hex, "seed")).hexdigest()


def check_entry(entry_id: object, weight: object) -> None:
    """Refuse an entry the canonical list could not write unambiguously: ``entry_id`` must be
    a non-empty string of ``[A-Za-z0-9_-]`` (never ``:``, a newline or personal data) and
    ``weight`` a positive ``int`` (``True``, ``1.0`` and ``"1"`` are refused).

    :raise ValidationFailed: on field ``entry_id`` or ``weight``.
    """
    if not isinstance(entry_id, str) or not _ENTRY_ID.fullmatch(entry_id):
        raise ValidationFailed.on(
            "entry_id",
            N_("Entry id %(entry_id)s may hold only letters, digits, '_' and '-'."),
            {"entry_id": repr(entry_id)},
        )
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        raise ValidationFailed.on(
            "weight",
            N_("Entry %(entry_id)s has weight %(weight)s; it must be a whole number ≥ 1."),
            {"entry_id": entry_id, "weight": repr(weight)},
        )


@dataclass(frozen=True)
class Entry:
    """One entry in a lottery; valid by construction (see ``check_entry``)."""

    entry_id: str
    weight: int

    def __post_init__(self) -> None:
        check_entry(self.entry_id, self.weight)


@dataclass(frozen=True)
class DrawResult:
    """Entry ids in draw order: ``winners`` first, then ``alternates`` (may be shorter)."""

    winners: list[str]
    alternates: list[str]


def canonical_entries(entries: Iterable[Entry]) -> list[Entry]:
    """The entries sorted by the UTF-8 bytes of ``entry_id`` (so ``"B" < "_" < "a"``).

    :raise ValidationFailed: on field ``entries`` when two entries share an id.
    """
    ordered = sorted(entries, key=lambda entry: entry.entry_id.encode("utf-8"))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.entry_id == after.entry_id:
            raise ValidationFailed.on(
                "entries", N_("Entry id %(entry_id)s appears twice."), {"entry_id": after.entry_id}
            )
    return ordered


def canonical_text(entries: Iterable[Entry]) -> bytes:
    """The canonical list: one ``entry_id:weight\\n`` line per entry, in canonical order."""
    lines = (f"{entry.entry_id}:{entry.weight}\n" for entry in canonical_entries(entries))
    return "".join(lines).encode("utf-8")


def entries_digest(entries: Iterable[Entry]) -> str:
    """Lowercase hex SHA-256 of the canonical list; an empty lottery hashes the empty text."""
    return hashlib.sha256(canonical_text(entries)).hexdigest()


class _WeightTree:
    """A Fenwick tree over the weights, so that each pick costs O(log n), not the O(n) walk.

    A removed entry keeps its slot with weight 0, so indices stay those of the canonical list
    and the first slot whose prefix sum exceeds ``r`` is the one the walk would stop at.
    """

    def __init__(self, weights: Sequence[int]) -> None:
        self.size, self.total, self.tree = len(weights), sum(weights), [0, *weights]
        for i in range(1, self.size + 1):
            parent = i + (i & -i)
            if parent <= self.size:
                self.tree[parent] += self.tree[i]

    def find(self, r: int) -> int:
        """The 0-based index of the first slot whose running sum is > r (0 <= r < total)."""
        position, step = 0, 1 << self.size.bit_length()
        while step:  # descend to the longest prefix whose sum is still <= r
            probe = position + step
            if probe <= self.size and self.tree[probe] <= r:
                position, r = probe, r - self.tree[probe]
            step >>= 1
        return position

    def remove(self, index: int, weight: int) -> None:
        self.total -= weight
        i = index + 1
        while i <= self.size:
            self.tree[i] -= weight
            i += i & -i


def _count(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed.on(
            field, N_("The %(field)s must be a whole number ≥ 0."), {"field": field}
        )
    return value


def draw(
    seed_hex: str,
    entries_digest_hex: str,
    entries: Iterable[Entry],
    winners: int,
    alternates: int,
    beacon: str = "",
) -> DrawResult:
    """Pick ``winners`` then ``alternates`` without replacement, each with odds proportional to
    its weight among the entries not yet picked, exactly as docs/DRAWS.md prescribes.

    The entries are put in canonical order here. ``entries_digest_hex`` is taken as given:
    that it is the digest of ``entries`` is the caller's promise (and ``verify_record`` checks
    it). When ``winners + alternates`` reaches the number of entries everyone is picked and the
    alternates are shorter; with no entries both lists are empty.

    :raise ValidationFailed: on a malformed seed, digest, beacon or count, a duplicate entry,
        or a total weight above 2**256 (rejection sampling would then never accept).
    """
    if not isinstance(beacon, str):
        raise ValidationFailed.on("beacon", N_("The beacon must be text (empty when unused)."))
    material = _hex32(seed_hex, "seed") + _hex32(entries_digest_hex, "entries_digest")
    randomness = hashlib.sha256(material + beacon.encode("utf-8")).digest()
    wanted = _count(winners, "winners_count") + _count(alternates, "alternates_count")
    ordered = canonical_entries(entries)
    tree = _WeightTree([entry.weight for entry in ordered])
    if tree.total > _SPACE:
        raise ValidationFailed.on("entries", N_("The total weight is too large to draw from."))
    picked: list[str] = []
    counter = 0
    while len(picked) < min(wanted, len(ordered)):
        block = hmac.new(randomness, counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
        x = int.from_bytes(block, "big")
        if x >= (_SPACE // tree.total) * tree.total:
            continue  # the top sliver of the range would favour low r: draw again
        index = tree.find(x % tree.total)
        picked.append(ordered[index].entry_id)
        tree.remove(index, ordered[index].weight)
    return DrawResult(winners=picked[:winners], alternates=picked[winners:])


def draw_record(
    campaign_id: str,
    *,
    seed_hex: str,
    entries: Iterable[Entry],
    beacon: str,
    winners_count: int,
    alternates_count: int,
    result: DrawResult,
    drawn_at: datetime,
) -> dict[str, Any]:
    """The published record of a draw, its keys in the order of docs/DRAWS.md, ``drawn_at`` in UTC.

    ``commitment`` and ``entries_digest`` are computed here, not passed in, so a record can
    never pair a seed with another lottery's commitment or entries with another digest.

    :raise ValidationFailed: on a malformed seed, duplicate entries or a naive ``drawn_at``.
    """
    if drawn_at.tzinfo is None:
        raise ValidationFailed.on("drawn_at", N_("The draw time must carry a time zone."))
    ordered = canonical_entries(entries)
    return {
        "algorithm": ALGORITHM,
        "campaign_id": campaign_id,
        "commitment": commitment(seed_hex),
        "seed": seed_hex,
        "entries_digest": entries_digest(ordered),
        "beacon": beacon,
        "winners_count": winners_count,
        "alternates_count": alternates_count,
        "entries": [{"id": entry.entry_id, "weight": entry.weight} for entry in ordered],
        "winners": list(result.winners),
        "alternates": list(result.alternates),
        "drawn_at": drawn_at.astimezone(UTC).isoformat(),
    }


class Check(NamedTuple):
    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of ``verify_record``: the checks run, each with a plain-English message."""

    checks: list[Check]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


# The type each field needs before any check can run; counts must also be >= 0.
_SHAPE: dict[str, type] = dict.fromkeys(("algorithm", "commitment", "seed", "entries_digest"), str)
_SHAPE |= {"beacon": str, "winners_count": int, "alternates_count": int}
_SHAPE |= dict.fromkeys(("entries", "winners", "alternates"), list)
_KINDS = {str: "text", int: "a whole number ≥ 0", list: "a list"}


def _malformation(record: object) -> str | None:
    """Why ``record`` lacks the shape every later check relies on; None when it has it."""
    if not isinstance(record, dict):
        return "the record is not a JSON object"
    for name, kind in _SHAPE.items():
        if name not in record:
            return f"the record has no '{name}' field"
        value = record[name]
        negative = isinstance(value, int) and value < 0
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and negative):
            return f"the '{name}' field should be {_KINDS[kind]}"
    if not all(
        isinstance(item, dict) and {"id", "weight"} <= item.keys() for item in record["entries"]
    ):
        return "each of the 'entries' should be an object with an 'id' and a 'weight'"
    if not all(isinstance(entry_id, str) for entry_id in record["winners"] + record["alternates"]):
        return "the 'winners' and 'alternates' should be lists of entry ids"
    return None


def verify_record(record: dict[str, Any]) -> VerifyReport:
    """Check a published record the way any participant could, in the order of docs/DRAWS.md:
    the algorithm name, sha256(seed) == commitment, the digest of the entries ==
    entries_digest, and a re-run of the draw giving exactly the winners and the alternates.

    Every check after the algorithm's runs even when an earlier one failed, so the report shows
    all that is wrong. A malformed record (missing field, wrong type) or another algorithm
    gives a failed report with that single check, never an exception. Entries are compared by
    content, so a list published out of canonical order still verifies.
    """
    problem = _malformation(record)
    if problem is not None:
        return VerifyReport([Check("record", False, problem)])
    if record["algorithm"] != ALGORITHM:
        message = f"the record uses algorithm {record['algorithm']!r}, not {ALGORITHM}"
        return VerifyReport([Check("algorithm", False, message)])
    checks = [Check("algorithm", True, f"the record uses {ALGORITHM}"), _check_commitment(record)]
    try:
        entries = [Entry(item["id"], item["weight"]) for item in record["entries"]]
        digest = entries_digest(entries)
    except (DomainError, ValueError) as error:  # ValueError: an int too long to write out
        checks.append(Check("entries_digest", False, f"the entries are invalid: {error}"))
        return VerifyReport(checks + _failed_outcome("the draw cannot be re-run on them"))
    passed = hmac.compare_digest(digest.encode(), record["entries_digest"].encode())
    verdict = "hash" if passed else "do not hash"
    message = f"the entries {verdict} to the published entries digest"
    checks.append(Check("entries_digest", passed, message))
    return VerifyReport(checks + _check_outcome(record, entries))


def _check_commitment(record: dict[str, Any]) -> Check:
    if not _HEX32.fullmatch(record["seed"]):
        return Check("commitment", False, "the seed is not 64 lowercase hex characters")
    # As bytes: compare_digest refuses non-ASCII str, and a record may hold any text.
    if hmac.compare_digest(commitment(record["seed"]).encode(), record["commitment"].encode()):
        return Check("commitment", True, "the seed hashes to the published commitment")
    return Check("commitment", False, "the seed does not hash to the published commitment")


def _check_outcome(record: dict[str, Any], entries: list[Entry]) -> list[Check]:
    """The winners and alternates checks: re-run the draw and compare with the record."""
    counts = record["winners_count"], record["alternates_count"]
    try:
        result = draw(record["seed"], record["entries_digest"], entries, *counts, record["beacon"])
    except DomainError as error:
        return _failed_outcome(f"the draw cannot be re-run: {error.message}")
    return [
        _compare("winners", result.winners, record["winners"]),
        _compare("alternates", result.alternates, record["alternates"]),
    ]


def _failed_outcome(reason: str) -> list[Check]:
    return [Check("winners", False, reason), Check("alternates", False, reason)]


def _compare(name: str, drawn: list[str], published: list[str]) -> Check:
    if drawn == published:
        return Check(name, True, f"re-running the draw gives exactly the published {name}")
    for position, (ours, theirs) in enumerate(zip(drawn, published, strict=False), start=1):
        if ours != theirs:
            detail = f"at position {position} the draw picks {ours}, the record says {theirs}"
            break
    else:
        detail = f"the draw picks {len(drawn)}, the record lists {len(published)}"
    return Check(name, False, f"re-running the draw gives different {name}: {detail}")


def replace_winner(
    winners: Sequence[str],
    alternates: Sequence[str],
    used_alternates: Iterable[str],
    disqualified_id: str,
) -> str | None:
    """The alternate who takes a disqualified winner's place: the first in draw order not yet
    used; None when all are used, as no new randomness is ever drawn. A promoted alternate
    (one in ``used_alternates``) counts as a winner and may in turn be disqualified.

    :raise ValidationFailed: on field ``entry_id`` when the entry is not a current winner.
    """
    used = set(used_alternates)
    if disqualified_id not in winners and disqualified_id not in used:
        raise ValidationFailed.on(
            "entry_id", N_("Entry %(entry_id)s is not a winner."), {"entry_id": disqualified_id}
        )
    return next((entry_id for entry_id in alternates if entry_id not in used), None)
