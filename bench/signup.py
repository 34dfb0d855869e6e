"""Joins + confirmations per second, with 1-level rewards, on SQLite and PostgreSQL.

Each sign-up is what the landing page does: the campaign found by its slug, ``join_campaign`` (attribution by referral
code, fraud signals, consent, the confirmation token and its outbox mail) and then
``confirm_participation`` (the confirmation event and its rewards to the person and their
referrer). Referrers are picked from earlier participants, so rewards really pay.

    .venv/bin/python bench/signup.py [--n 1000] [--pg postgresql+psycopg://root@127.0.0.1:5432/test]

Prints sign-ups per second, SQL statements per sign-up (BEGIN, SAVEPOINT and COMMIT
included) and the benchmark process's CPU time per sign-up (the service's own cost, which
other load on the machine disturbs less than the wall clock) per database, and the ratio
PostgreSQL / SQLite.

Then what the writes alone cost: every statement the run sent to the driver, with the
very parameters it sent, is replayed on the driver's own cursor against a fresh schema,
transaction by transaction, with no application code between them. That rate is the
ceiling of any sign-up path that does the same work in the same statements; the service
rate divided by it is the share of the time the writes themselves take.

On PostgreSQL the statements are then run once more, each under ``EXPLAIN (ANALYZE)`` on a
fresh schema: the server's own time to execute them (planning apart) per sign-up, and the
part of it the foreign-key checks take (PostgreSQL's ``RI_ConstraintTrigger`` triggers).
What is left of the replay's time is round trips, commits and the driver.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import shop
from sqlalchemy import create_engine, event, func, select, text

from referral import create_app
from referral.config import test_config
from referral.extensions import db
from referral.models import Campaign, LedgerEntry, RewardRule
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign, public_campaign
from referral.services.outbox import Mail


def _compose(participation, customer, token):  # the real composer renders templates; the
    return Mail("Confirm", f"/confirm/{token}")  # service cost is what is measured here


Captured = list[tuple[str, object, bool]]


def capture(engine: object, into: Captured) -> object:
    """Record each statement sent to the driver (and each commit) into ``into``."""

    def sent(
        _conn: object, _cursor: object, statement: str, params: object, _ctx: object, many: bool
    ) -> None:
        into.append((statement, params, many))

    def committed(_conn: object) -> None:
        into.append(("COMMIT", None, False))

    def rolled_back(_conn: object) -> None:
        into.append(("ROLLBACK", None, False))

    event.listen(engine, "before_cursor_execute", sent)
    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    return sent, committed, rolled_back


def replay(driver: object, statements: Captured, sqlite_file: bool) -> float:
    """Run ``statements`` on a driver connection, as they were sent; seconds taken."""
    cursor = driver.cursor()  # type: ignore[attr-defined]
    started = time.perf_counter()
    for statement, params, many in statements:
        if statement == "BEGIN" and sqlite_file:
            statement = "BEGIN IMMEDIATE"  # the service's first write takes the lock too
        if statement == "COMMIT":
            driver.commit()  # type: ignore[attr-defined]
        elif statement == "ROLLBACK":
            driver.rollback()  # type: ignore[attr-defined]
        elif many:
            cursor.executemany(statement, params)
        elif params:
            cursor.execute(statement, params)
        else:
            cursor.execute(statement)
        if (
            statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))
            and cursor.description
        ):
            cursor.fetchall()
    return time.perf_counter() - started


def explained(driver: Any, statements: Captured) -> tuple[float, float]:
    """Run ``statements`` on a PostgreSQL driver connection, each SELECT, INSERT, UPDATE or
    DELETE under ``EXPLAIN (ANALYZE, FORMAT JSON)`` (which executes it); the milliseconds
    the server took to execute them, and those of their foreign-key checks."""
    cursor = driver.cursor()
    executing = triggers = 0.0
    for statement, params, many in statements:
        if statement in ("COMMIT", "ROLLBACK"):
            driver.commit() if statement == "COMMIT" else driver.rollback()
            continue
        if (
            not statement.lstrip()
            .upper()
            .startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"))
        ):
            cursor.execute(statement, params or None)
            continue
        for one in params if many else [params]:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", one or None)
            plan = cursor.fetchone()[0][0]
            executing += plan["Execution Time"]
            triggers += sum(
                t["Time"]
                for t in plan.get("Triggers", [])
                if t["Trigger Name"].startswith("RI_ConstraintTrigger")  # a foreign key's
            )
    return executing, triggers


def _fresh_schema() -> Campaign:
    """An empty schema with the live campaign and its rules: 50 points to a confirmed
    person, 100 to their referrer."""
    db.drop_all()
    db.create_all()
    _, campaign = shop.live_campaign()
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


def run(url: str, n: int) -> dict[str, float]:
    app = create_app(test_config(url))
    app.config["WAKE_IN_BACKGROUND"] = True  # as the service runs: commits do not enqueue
    with app.app_context():
        slug = _fresh_schema().slug
        rng = random.Random(7)
        codes: list[str] = []
        statements = [0]

        def count(*_args: object) -> None:
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        event.listen(db.engine, "commit", count)
        sent: Captured = []
        listeners = capture(db.engine, sent)
        started = time.perf_counter()
        cpu_started = time.process_time()
        for i in range(n):
            code = rng.choice(codes) if codes and rng.random() < 0.85 else None
            campaign = public_campaign(slug)  # as each request of the landing page finds it
            result = join_campaign(
                campaign,
                JoinRequest(
                    email=f"person{i}@example.org",
                    referral_code=code,
                    channel="link",
                    consent_text="I agree",
                    consent_version="1",
                ),
                Visitor(
                    ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                    user_agent=f"ua{i}",
                    visitor_id=f"v{i}",
                ),
                _compose,
            )
            confirm_participation(result.participation)
            codes.append(result.participation.referral_code)
            if i % 200 == 0:
                db.session.expunge_all()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(db.engine, "commit", count)
        event.remove(db.engine, "before_cursor_execute", listeners[0])  # type: ignore[index]
        event.remove(db.engine, "commit", listeners[1])  # type: ignore[index]
        event.remove(db.engine, "rollback", listeners[2])  # type: ignore[index]
        paid = db.session.scalar(select(func.count()).select_from(LedgerEntry))
        writes, commits = _replayed(app, sent)
        server = _explained(sent) if db.engine.dialect.name == "postgresql" else None
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return {
        "signups": n,
        "seconds": elapsed,
        "per_second": n / elapsed,
        "ledger_lines": paid,
        "statements": statements[0] / n,
        "cpu_ms": cpu / n * 1000,
        "writes_per_second": n / writes,
        "commits_per_second": commits,
        "server_ms": server[0] / n if server else None,
        "trigger_ms": server[1] / n if server else None,
    }


def _replayed(app: object, sent: Captured) -> tuple[float, float]:
    """Seconds the captured statements take on the driver, on a fresh schema whose setup
    (the campaign and its rules) is the same as the run's."""
    db.session.remove()
    _fresh_schema()
    db.session.remove()
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        is_sqlite = isinstance(driver, sqlite3.Connection)
        if not is_sqlite:
            driver.commit()  # type: ignore[union-attr]  # the pool's implicit BEGIN
        seconds = replay(driver, sent, is_sqlite)
        commits = _bare_commits(driver, 300)
    return seconds, commits


def _explained(sent: Captured) -> tuple[float, float]:
    """:func:`explained` of the run's statements, on a fresh schema as :func:`_replayed`."""
    db.session.remove()
    _fresh_schema()
    db.session.remove()
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.commit()  # type: ignore[union-attr]  # the pool's implicit BEGIN
        return explained(driver, sent)


def _bare_commits(driver: Any, n: int) -> float:
    """One-row INSERT + COMMIT per second on the driver: what the disk allows a single
    writer (two of them per sign-up: the join and the confirmation)."""
    cursor = driver.cursor()
    cursor.execute("CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, v INTEGER)")
    driver.commit()
    mark = "?" if isinstance(driver, sqlite3.Connection) else "%s"
    started = time.perf_counter()
    for i in range(n):
        cursor.execute(f"INSERT INTO bench_commit (id, v) VALUES ({mark}, {mark})", (i, i))
        driver.commit()
    elapsed = time.perf_counter() - started
    cursor.execute("DROP TABLE bench_commit")
    driver.commit()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", args.n)
    name = "referral_bench_signup"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        results["postgresql"] = run(f"{args.pg.rpartition('/')[0]}/{name}", args.n)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for label, r in results.items():
        print(
            f"{label:10s} {r['signups']} joins+confirmations in {r['seconds']:.2f} s "
            f"= {r['per_second']:.1f}/s, {r['statements']:.1f} statements each "
            f"({r['ledger_lines']} ledger lines); {r['cpu_ms']:.2f} ms of this process's CPU each"
        )
        print(
            f"{'':10s} the same statements replayed on the driver: "
            f"{r['writes_per_second']:.1f}/s; the writes take "
            f"{r['per_second'] / r['writes_per_second']:.2f} of the service's time; "
            f"a bare one-row commit: {r['commits_per_second']:.0f}/s"
        )
        if r["server_ms"] is not None:
            print(
                f"{'':10s} the server executing them (EXPLAIN ANALYZE): "
                f"{r['server_ms']:.2f} ms per sign-up, of which foreign-key checks "
                f"{r['trigger_ms']:.2f} ms ({r['trigger_ms'] / r['server_ms']:.2f})"
            )
    ratio = results["postgresql"]["per_second"] / results["sqlite"]["per_second"]
    print(f"ratio postgresql/sqlite: {ratio:.2f}")


if __name__ == "__main__":
    main()
