"""Journey runner throughput and event-to-message latency, on SQLite and PostgreSQL.

1. **Steps per second.** ``--n`` enrolments (10^5 by default) are bulk-inserted, not
   entered through the runner, each standing at a one-day wait that is over, in a journey
   ``wait → send → exit`` whose customers opted in to marketing. ``journey_runner.run_due``
   is then called until nothing is due; every enrolment takes three steps (the wait, the
   send with its consent and cap checks, its rendered message and its outbox row, the
   exit). Prints enrolments and steps advanced per second.
2. **Latency.** ``--events`` purchases (200) are reported one by one (``report_event``:
   the event, and in the same transaction the enrolment in a ``send → exit`` journey), and
   the runner is called right after the commit, as the worker does when it is woken; the
   time from reporting to the outbox row being committed is measured. Prints the median
   and p99.

    .venv/bin/python bench/journeys.py [--n 100000] [--events 200]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]
        [--only sqlite|postgresql] [--seconds S]

``--n 1000`` is a quick check; ``--seconds`` stops the runner after that long with the
rest of the enrolments still due (steps per second are then over what it advanced).

The judged figure is the p99 latency (goal: well under a second, so a follow-up leaves
within seconds of its cause), and the ratio of steps per second PostgreSQL / SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import shop
from sqlalchemy import create_engine, insert, select, text

from referral import create_app
from referral.config import test_config
from referral.extensions import db
from referral.models import (
    Campaign,
    ConsentRecord,
    Customer,
    OutboxMessage,
    Participation,
    Workspace,
)
from referral.models.base import utcnow
from referral.models.journey import JourneyEnrolment, JourneyStepLog
from referral.services import journey_runner
from referral.services.events import report_event
from referral.services.journey_enrolment import enrolment_values
from referral.services.journey_templates import save_template
from referral.services.journeys import create_journey, get_journey, parsed, pause_journey

PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
CHUNK = 5_000
HELLO = ("Hello {{ customer.first_name }}", "Thanks for joining {{ campaign.name }}.")


def _shop() -> tuple[Workspace, Campaign]:
    workspace, campaign = shop.live_campaign()
    db.session.commit()
    save_template(workspace.id, "hello", "en", *HELLO)
    return workspace, campaign


def _bulk(model: type[Any], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def _customers(workspace_id: int, n: int, prefix: str) -> list[int]:
    """``n`` customers with a marketing opt-in; their ids."""
    now = utcnow()
    _bulk(
        Customer,
        [
            {
                "workspace_id": workspace_id,
                "email": f"{prefix}{i}@example.org",
                "email_display": f"{prefix}{i}@example.org",
                "name": f"Person {i}",
                "locale": "en",
                "created_at": now,
            }
            for i in range(n)
        ],
    )
    ids = list(
        db.session.scalars(
            select(Customer.id).where(Customer.email.like(f"{prefix}%")).order_by(Customer.id)
        )
    )
    _bulk(
        ConsentRecord,
        [
            {
                "customer_id": ident,
                "purpose": "marketing",
                "text": "Yes, send me news.",
                "version": "1",
                "given_at": now - timedelta(days=3),
                "action": "given",
            }
            for ident in ids
        ],
    )
    db.session.commit()
    return ids


def _enrolments(workspace: Workspace, campaign: Campaign, n: int) -> int:
    """``n`` enrolments at a one-day wait that ended an hour ago (bulk, not the runner)."""
    steps = [
        {"id": "pause", "type": "wait", "for": {"days": 1}},
        {"id": "hello", "type": "send", "template": "hello"},
        {"id": "end", "type": "exit"},
    ]
    definition = {"trigger": {"type": "event", "event": "signup_confirmed"}, "steps": steps}
    journey = create_journey(
        workspace.id, "Throughput", definition, campaign_id=campaign.id, status="running"
    )
    ids = {"throughput": journey.id}
    since = utcnow() - timedelta(days=1, hours=1)
    values = []
    for ident in _customers(workspace.id, n, "t"):
        row = enrolment_values(journey, parsed(definition), ident, "once", since)
        values.append({**row, "campaign_id": campaign.id, "next_run_at": since + timedelta(days=1)})
    _bulk(JourneyEnrolment, values)
    db.session.commit()
    return ids["throughput"]


def _throughput(budget: float | None) -> tuple[float, int, int]:
    """Run the runner until nothing is due, or for ``budget`` seconds at most: (seconds,
    enrolments advanced, steps taken)."""
    before = db.session.scalar(select(text("count(*)")).select_from(JourneyStepLog)) or 0
    started = time.perf_counter()
    advanced = total = journey_runner.run_due()
    while advanced and (budget is None or time.perf_counter() - started < budget):
        advanced = journey_runner.run_due()
        total += advanced
    elapsed = time.perf_counter() - started
    after = db.session.scalar(select(text("count(*)")).select_from(JourneyStepLog)) or 0
    return elapsed, total, after - before


def _latencies(workspace: Workspace, campaign: Campaign, events: int) -> list[float]:
    """Seconds from reporting a purchase to its journey message committed in the outbox."""
    definition = {
        "trigger": {"type": "event", "event": "purchase"},
        "steps": [
            {"id": "thanks", "type": "send", "template": "hello"},
            {"id": "end", "type": "exit"},
        ],
        "reentry": "every_time",
    }
    create_journey(workspace.id, "Latency", definition, campaign_id=campaign.id, status="running")
    now = utcnow()
    people = _customers(workspace.id, events, "l")
    _bulk(
        Participation,
        [
            {
                "campaign_id": campaign.id,
                "customer_id": ident,
                "referral_code": f"L{ident}",
                "status": "confirmed",
                "confirmed_at": now,
                "created_at": now,
            }
            for ident in people
        ],
    )
    db.session.commit()
    nodes = list(
        db.session.scalars(select(Participation).where(Participation.customer_id.in_(people)))
    )
    seconds = []
    for node in nodes:
        started = time.perf_counter()
        report_event(campaign, node, "purchase", amount=1000, currency="EUR")
        journey_runner.run_due()  # what the worker does once the commit woke it
        elapsed = time.perf_counter() - started
        queued = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.customer_id == node.customer_id)
        )
        assert queued is not None, "no message was queued"
        seconds.append(elapsed)
    return seconds


def run(url: str, n: int, events: int, budget: float | None = None) -> dict[str, float]:
    app = create_app(test_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        workspace, campaign = _shop()
        started = time.perf_counter()
        throughput = _enrolments(workspace, campaign, n)
        setup = time.perf_counter() - started
        elapsed, advanced, steps = _throughput(budget)
        # What a time budget left due must not run inside the latency measurement.
        pause_journey(get_journey(workspace.id, throughput))
        latencies = sorted(_latencies(workspace, campaign, events))
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "n": n,
        "setup": setup,
        "seconds": elapsed,
        "advanced": advanced,
        "steps": steps,
        "steps_per_second": steps / elapsed,
        "enrolments_per_second": advanced / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": p99 * 1000,
    }


def _on_postgresql(server_url: str, args: argparse.Namespace) -> dict[str, float]:
    """The run in a database of its own on the server, dropped afterwards."""
    name = "referral_bench_journeys"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{server_url.rpartition('/')[0]}/{name}"
        return run(url, args.n, args.events, args.seconds)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="enrolments to advance")
    parser.add_argument("--events", type=int, default=200, help="events for the latency")
    parser.add_argument("--database-url", default=PG_URL, help="the PostgreSQL server")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument(
        "--seconds", type=float, help="stop the runner after this long (the rest stays due)"
    )
    args = parser.parse_args()
    results = {}
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            results["sqlite"] = run(url, args.n, args.events, args.seconds)
    if args.only != "sqlite":
        results["postgresql"] = _on_postgresql(args.database_url, args)
    for label, r in results.items():
        print(
            f"{label:10s} {r['advanced']:,} of {r['n']:,} due enrolments, {r['steps']:,} steps in "
            f"{r['seconds']:.1f} s = {r['steps_per_second']:,.0f} steps/s "
            f"({r['enrolments_per_second']:,.0f} enrolments/s; bulk insert {r['setup']:.1f} s)"
        )
        print(
            f"{'':10s} event → outbox message: median {r['median_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms over {args.events} events"
        )
    if len(results) == 2:
        ratio = results["postgresql"]["steps_per_second"] / results["sqlite"]["steps_per_second"]
        print(f"ratio steps/s postgresql/sqlite: {ratio:.2f}")
    worst = max(r["p99_ms"] for r in results.values())
    print(f"JUDGED: p99 event → outbox {worst:.0f} ms (goal < 1000 ms)")


if __name__ == "__main__":
    main()
