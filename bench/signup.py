"""Joins + confirmations per second, with 1-level rewards, on SQLite and PostgreSQL.

Each sign-up is what the landing page does: ``join_campaign`` (attribution by referral
code, fraud signals, consent, the confirmation token and its outbox mail) and then
``confirm_participation`` (the confirmation event and its rewards to the person and their
referrer). Referrers are picked from earlier participants, so rewards really pay.

    .venv/bin/python bench/signup.py [--n 1000] [--pg postgresql+psycopg://root@127.0.0.1:5432/test]

Prints sign-ups per second, SQL statements per sign-up (BEGIN, SAVEPOINT and COMMIT
included) and the benchmark process's CPU time per sign-up (the service's own cost, which
other load on the machine disturbs less than the wall clock) per database, and the ratio
PostgreSQL / SQLite.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import shop
from sqlalchemy import create_engine, event, func, select, text

from referral import create_app
from referral.config import test_config
from referral.extensions import db
from referral.models import Campaign, LedgerEntry, RewardRule
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.outbox import Mail


def _compose(participation, customer, token):  # the real composer renders templates; the
    return Mail("Confirm", f"/confirm/{token}")  # service cost is what is measured here


def run(url: str, n: int) -> dict[str, float]:
    app = create_app(test_config(url))
    app.config["WAKE_IN_BACKGROUND"] = True  # as the service runs: commits do not enqueue
    with app.app_context():
        db.drop_all()
        db.create_all()
        workspace, campaign = shop.live_campaign()
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
        campaign_id = campaign.id
        rng = random.Random(7)
        codes: list[str] = []
        statements = [0]

        def count(*_args: object) -> None:
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        event.listen(db.engine, "commit", count)
        started = time.perf_counter()
        cpu_started = time.process_time()
        for i in range(n):
            code = rng.choice(codes) if codes and rng.random() < 0.85 else None
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
                campaign = db.session.get(Campaign, campaign_id)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(db.engine, "commit", count)
        paid = db.session.scalar(select(func.count()).select_from(LedgerEntry))
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
    }


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
    ratio = results["postgresql"]["per_second"] / results["sqlite"]["per_second"]
    print(f"ratio postgresql/sqlite: {ratio:.2f}")


if __name__ == "__main__":
    main()
