"""Importing 10,000 people from a CSV file, on SQLite and PostgreSQL.

The file has the columns an export of a shop would have (e-mail, name, language,
birthday); one row in a hundred has a mistake (an address without a domain, a birthday
that does not exist), which the import reports and skips. The rows go the way the admin's
import goes: the bytes read as a table, the columns mapped, each row read, and
``services.imports.import_people`` adds the people in one transaction, each as a pending
sign-up with its consent record (purpose ``imported``), its ``entered`` event, its
confirmation link and its mail in the outbox. A second run of the same file follows and
must add nobody.

    .venv/bin/python bench/imports.py [--n 10000]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]
        [--only sqlite|postgresql]

Prints rows per second for each database and the figure the import is judged by: the
seconds 10,000 rows take on the slower database divided by 60 (goal: well under 1, the
10,000 rows well under a minute).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import shop
from sqlalchemy import create_engine, func, select, text

from referral import create_app, emails
from referral.config import test_config
from referral.domain.imports import guess_mapping, read_rows, read_table
from referral.extensions import db
from referral.models import Campaign, OutboxMessage, Participation
from referral.services.imports import import_people, split_rows

PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
BASIS = "Customers of our shop (existing contract)"


def sample_file(n: int) -> bytes:
    """``n`` rows; every hundredth has a mistake."""
    lines = ["E-Mail;Name;Language;Birthday"]
    for i in range(n):
        email = f"person{i}@example.org" if i % 100 != 99 else f"person{i}"
        birthday = f"{1 + i % 28:02d}.{1 + i % 12:02d}.1980" if i % 100 != 98 else "31.02.1980"
        lines.append(f"{email};Person {i};{('de', 'en', 'nl')[i % 3]};{birthday}")
    return ("\n".join(lines) + "\n").encode()


def _import(campaign: Campaign, data: bytes) -> tuple[float, dict[str, int]]:
    """The file imported as the admin imports it: (seconds, counts)."""
    started = time.perf_counter()
    table = read_table(data)
    people, rejected = split_rows(read_rows(table, guess_mapping(table.header)))
    result = import_people(campaign, people, BASIS, compose=emails.confirmation, rejected=rejected)
    return time.perf_counter() - started, result.counts


def run(url: str, n: int) -> dict[str, float]:
    app = create_app(test_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        _workspace, campaign = shop.live_campaign()
        db.session.commit()
        data = sample_file(n)
        first, counts = _import(campaign, data)
        again, counts_again = _import(campaign, data)
        stored = db.session.scalar(select(func.count()).select_from(Participation))
        mails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert counts["error"] == n // 50, counts
        assert stored == counts["created"] == mails == n - counts["error"], (stored, mails)
        assert counts_again["created"] == 0 and counts_again["existing"] == stored, counts_again
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return {"n": n, "seconds": first, "again": again, "rows_per_second": n / first, **counts}


def _on_postgresql(server_url: str, n: int) -> dict[str, float]:
    """The run in a database of its own on the server, dropped afterwards."""
    name = "referral_bench_imports"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return run(f"{server_url.rpartition('/')[0]}/{name}", n)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="rows in the file")
    parser.add_argument("--database-url", default=PG_URL, help="the PostgreSQL server")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    args = parser.parse_args()
    results = {}
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = run(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", args.n)
    if args.only != "sqlite":
        results["postgresql"] = _on_postgresql(args.database_url, args.n)
    for label, r in results.items():
        print(
            f"{label:10s} {r['n']:,} rows in {r['seconds']:.2f} s = {r['rows_per_second']:,.0f} "
            f"rows/s ({r['created']:,} added, {r['error']:,} errors reported); the same file "
            f"again {r['again']:.2f} s, nobody added"
        )
    slowest = max(r["seconds"] * 10_000 / r["n"] for r in results.values())
    print(f"JUDGED: seconds for 10k rows / 60 = {slowest:.1f} / 60 = {slowest / 60:.3f} (goal < 1)")


if __name__ == "__main__":
    main()
