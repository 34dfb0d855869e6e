"""A draw's winners as people: the workspace's list and CSV, and the public masked list."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from referral.models import Draw
from referral.services.draws import current_winners, people_of


@dataclass(frozen=True)
class WinnerRow:
    position: int
    entry_id: str
    weight: int
    name: str
    email: str


def winner_rows(draw: Draw) -> list[WinnerRow]:
    """The current winners with who they are (for the workspace only)."""
    winners = current_winners(draw)
    people = people_of(winners)
    weights = {item["id"]: item["weight"] for item in draw.record["entries"]}
    rows = []
    for position, entry_id in enumerate(winners, start=1):
        found = people.get(entry_id)
        customer = found[1] if found else None
        rows.append(
            WinnerRow(
                position,
                entry_id,
                weights.get(entry_id, 0),
                (customer.name or "") if customer else "",
                (customer.email_display or "") if customer else "",
            )
        )
    return rows


def masked(name: str) -> str:
    """ "Anna Smith" → "Anna S."; the public list never shows a whole name or an address."""
    parts = name.split()
    if not parts:
        return "—"
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def winners_csv(draw: Draw) -> str:
    """The winners as CSV, one row each: position, entry id, entries, name, e-mail."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["position", "entry_id", "entries", "name", "email"])
    for row in winner_rows(draw):
        writer.writerow([row.position, row.entry_id, row.weight, _safe(row.name), row.email])
    return out.getvalue()


def _safe(text: str) -> str:
    """Neutralise spreadsheet formulas (a name starting with = + - @)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
