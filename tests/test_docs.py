"""The repository explains itself: every document that code, tests and the README cite is
here, and the public draw algorithm is written down exactly as the code runs it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCANNED = ("referral", "tests", "bench", "README.md")
THIS_FILE = Path(__file__).resolve()
SKIPPED_SUFFIXES = frozenset({".mo", ".png", ".jpg", ".ico", ".gif", ".woff", ".woff2", ".pyc"})
# A cited document: ``docs/DESIGN.md``, ``some/where/API.md`` or a bare ``DRAWS.md``.
CITATION = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*)([A-Z]+)\.md\b")
LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")
THE_FIVE = ("DESIGN", "API", "DRAWS", "STYLE", "ARCHITECTURE")
# An invariant of docs/DESIGN.md: ``1. **A forest, never a cycle.** …`` up to the next one.
INVARIANT = re.compile(r"^(\d+)\. \*\*(.+?)\*\*(.*?)(?=^\d+\. \*\*|\Z)", re.M | re.S)
# A test it names: ``tests/unit/test_depth.py::test_invariant_2_depth_cap_…``.
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")

# referral-draw-v1, line by line: the published algorithm, which every verifier re-implements
# from this text alone. A change here is a new algorithm version, never an edit.
DRAW_PSEUDO_CODE = (
    'randomness = SHA-256( seed_bytes || bytes.fromhex(entries_digest) || beacon.encode("utf-8") )',
    "remaining  = the canonical list, in order",
    "picked     = []",
    "k = 0",
    "while len(picked) < winners + alternates and remaining:",
    '    h = HMAC-SHA256(key=randomness, msg=k.to_bytes(8, "big")); k += 1',
    '    x = int.from_bytes(h, "big")                 # 0 <= x < 2**256',
    "    total = sum(weight for remaining entries)",
    "    if x >= (2**256 // total) * total: continue    # rejection sampling: no modulo bias",
    "    r = x % total",
    "    walk `remaining` in order adding weights; pick the first entry whose running sum > r",
    "    move it from `remaining` to the end of `picked`",
    "winners    = picked[:winners]",
    "alternates = picked[winners:]",
)
DRAW_RULES = (
    "- `seed`: 32 bytes from a CSPRNG (`secrets.token_bytes(32)`), kept secret until the draw,",
    "- `commitment` = lowercase hex SHA-256 of the 32 seed bytes. Shown on the official rules page",
    "- The **canonical list** sorts entries by `entry_id`, comparing the UTF-8 bytes, and writes",
    "  each as the line `entry_id:weight\\n` (UTF-8).",
    "- `entries_digest` = lowercase hex SHA-256 of the canonical list. It is published at close;",
    "`beacon` is the empty string when no beacon is used.",
    '{"algorithm": "referral-draw-v1", "campaign_id": "...", "commitment": "...", "seed": "...",',
    ' "entries_digest": "...", "beacon": "", "winners_count": 3, "alternates_count": 2,',
    ' "entries": [{"id": "...", "weight": 2}, ...], "winners": ["..."], "alternates": ["..."],',
    ' "drawn_at": "2026-11-23T12:00:00+00:00"}',
)


def citations(text: str) -> set[str]:
    """The documents ``text`` cites, as written (``docs/API.md``, ``DRAWS.md``, …)."""
    return {folder + name + ".md" for folder, name in CITATION.findall(text)}


def resolves(cited: str) -> bool:
    """A path is looked up from the repository root; a bare name at the root or in docs/."""
    if "/" in cited:
        return (ROOT / cited).is_file()
    return (ROOT / cited).is_file() or (DOCS / cited).is_file()


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
            continue
        files += [
            p
            for p in sorted(path.rglob("*"))
            if p.is_file()
            and p != THIS_FILE  # its examples of citations are test data
            and "__pycache__" not in p.parts
            and p.suffix.lower() not in SKIPPED_SUFFIXES
        ]
    return files


def cited_documents() -> dict[str, list[str]]:
    """Every cited document and where it is cited (``path:line``)."""
    found: dict[str, list[str]] = {}
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not a text file
        for number, line in enumerate(text.splitlines(), start=1):
            for cited in citations(line):
                found.setdefault(cited, []).append(f"{path.relative_to(ROOT)}:{number}")
    return found


def test_the_citation_finder_sees_paths_and_bare_names_but_not_parts_of_words() -> None:
    """The check below is only as good as the finder: does it see every way of citing?"""
    text = (
        "see docs/DESIGN.md, Spread metrics; the record of DRAWS.md; (shared/API.md); "
        "README.md; not readme.md nor MyDESIGN.md nor API.markdown"
    )
    assert citations(text) == {"docs/DESIGN.md", "DRAWS.md", "shared/API.md", "README.md"}
    assert resolves("docs/DESIGN.md") and resolves("DRAWS.md") and resolves("README.md")
    assert not resolves("shared/API.md") and not resolves("MISSING.md")


def test_every_document_cited_in_code_tests_and_the_readme_exists() -> None:
    found = cited_documents()
    assert {f"docs/{name}.md" for name in ("DESIGN", "API", "DRAWS", "STYLE")} <= set(found)
    missing = {cited: where for cited, where in found.items() if not resolves(cited)}
    assert missing == {}


def test_code_cites_the_documents_by_their_path_in_docs() -> None:
    """A bare ``DRAWS.md`` in a comment leaves the reader guessing where it is."""
    bare = {
        cited: where
        for cited, where in cited_documents().items()
        if "/" not in cited and (DOCS / cited).is_file() and not (ROOT / cited).is_file()
    }
    assert bare == {}


@pytest.mark.parametrize("name", THE_FIVE)
def test_the_readme_links_each_document(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"](docs/{name}.md)" in readme
    assert (DOCS / f"{name}.md").is_file()


def test_every_link_between_the_documents_resolves() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).is_file():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert broken == []


def test_the_draw_document_holds_referral_draw_v1_line_for_line() -> None:
    lines = (DOCS / "DRAWS.md").read_text(encoding="utf-8").splitlines()
    missing = [line for line in DRAW_PSEUDO_CODE + DRAW_RULES if line not in lines]
    assert missing == []
    start = lines.index(DRAW_PSEUDO_CODE[0])
    assert tuple(lines[start : start + len(DRAW_PSEUDO_CODE)]) == DRAW_PSEUDO_CODE


def invariants() -> dict[int, tuple[str, str]]:
    """The invariants of docs/DESIGN.md: number → (title, text)."""
    design = (DOCS / "DESIGN.md").read_text(encoding="utf-8")
    section = design.split("## Invariants", 1)[1].split("\n## ", 1)[0]
    return {int(n): (title, text) for n, title, text in INVARIANT.findall(section)}


def defined_tests(path: Path) -> set[str]:
    """The names of the test functions a module defines (at its top level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_the_invariant_finder_sees_each_item_and_its_test_references() -> None:
    text = "1. **One.** Rule. Tested by `tests/unit/test_a.py::test_invariant_1_x`.\n2. **Two.** B."
    found = INVARIANT.findall(text)
    assert [(n, title) for n, title, _ in found] == [("1", "One."), ("2", "Two.")]
    assert TEST_REFERENCE.findall(found[0][2]) == [("tests/unit/test_a.py", "test_invariant_1_x")]
    assert TEST_REFERENCE.findall(found[1][2]) == []


def test_every_invariant_names_the_tests_that_prove_it_and_they_exist() -> None:
    """docs/DESIGN.md says which tests prove each invariant ("Tested by `tests/…::test_…`");
    each named test exists and is named after its invariant (``test_invariant_<n>_…``)."""
    found = invariants()
    assert sorted(found) == list(range(1, len(found) + 1)) and len(found) >= 7
    unproven, broken = [], []
    for number, (title, text) in found.items():
        references = TEST_REFERENCE.findall(text)
        if not references:
            unproven.append(f"{number}. {title}")
        for module, name in references:
            path = ROOT / module
            exists = path.is_file() and name in defined_tests(path)
            if not exists or not name.startswith(f"test_invariant_{number}_"):
                broken.append(f"{number}: {module}::{name}")
    assert unproven == [] and broken == []
