"""A page view (the campaign dashboard's data and an advocate's page) at 10^4 … 10^7 clicks,
with the counters and with the COUNT queries they replaced, on SQLite and PostgreSQL.

    .venv/bin/python bench/counters.py [--sizes 4,5,6,7] [--sqlite-max 6]
        [--pg postgresql+psycopg://root@127.0.0.1:5432/test] [--participants 300]

Clicks are inserted in bulk inside the database (``generate_series`` on PostgreSQL, a
recursive CTE on SQLite), half of them on the link of the advocate whose page is viewed;
the counters are brought in line by ``services.counters.reconcile``, as after an import.
The COUNT variant runs the same page with the counter reads swapped for COUNT queries over
the clicks and participations. Prints ms per page view at each size and the ratio of the
largest size to the smallest (flat is the goal); the data is dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import shop
from sqlalchemy import create_engine, event, func, select, text

from referral import create_app
from referral.config import test_config
from referral.extensions import db
from referral.models import Campaign, Click, Participation
from referral.services import advocates, counters, dashboard
from referral.services.confirmation import confirm_participation
from referral.services.joining import JoinRequest, join_campaign

PG_CLICKS = """
INSERT INTO clicks (campaign_id, participation_id, channel, utm, created_at)
SELECT :campaign, CASE WHEN g % 2 = 0 THEN :advocate ELSE :other END, 'link', '{}',
       now() - (g % 86400) * interval '1 second'
FROM generate_series(1, :n) AS g
"""
SQLITE_CLICKS = """
INSERT INTO clicks (campaign_id, participation_id, channel, utm, created_at)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n)
SELECT :campaign, CASE WHEN g % 2 = 0 THEN :advocate ELSE :other END, 'link', '{}',
       datetime('now', '-' || (g % 86400) || ' seconds')
FROM s
"""


def counted_campaign(campaign_id: int) -> dict[str, int]:
    """``counters.campaign_counts`` as COUNT queries over the rows."""
    found = {
        counters.CLICKS: int(
            db.session.scalar(select(func.count()).where(Click.campaign_id == campaign_id)) or 0
        )
    }
    for referred in (False, True):
        query = select(Participation.status, func.count()).where(
            Participation.campaign_id == campaign_id
        )
        if referred:
            query = query.where(Participation.referrer_id.is_not(None))
        prefix = "referred" if referred else "status"
        for status, n in db.session.execute(query.group_by(Participation.status)):
            found[f"{prefix}:{status}"] = int(n)
    return found


def counted_participations(campaign_id: int, ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``counters.participation_counts`` as COUNT queries over the rows."""
    wanted = list(ids)
    found: dict[int, dict[str, int]] = {pid: {} for pid in wanted}
    clicks = db.session.execute(
        select(Click.participation_id, func.count())
        .where(Click.participation_id.in_(wanted))
        .group_by(Click.participation_id)
    )
    for pid, n in clicks:
        found[pid][counters.CLICKS] = int(n)
    referrals = db.session.execute(
        select(Participation.referrer_id, Participation.status, func.count())
        .where(Participation.referrer_id.in_(wanted))
        .group_by(Participation.referrer_id, Participation.status)
    )
    for pid, status, n in referrals:
        found[pid][f"referrals:{status}"] = int(n)
    return found


def page_view(campaign_id: int, advocate_id: int) -> None:
    campaign = db.session.get_one(Campaign, campaign_id)
    dashboard.dashboard(campaign)
    advocates.advocate_view(db.session.get_one(Participation, advocate_id))
    db.session.rollback()


def timed(run: Callable[[], None], budget: float = 3.0, most: int = 25) -> float:
    """Median ms of ``run`` over as many runs as fit in ``budget`` seconds (3 at least)."""
    run()  # warm: the spread metrics' cache, the statement caches
    times: list[float] = []
    spent = 0.0
    while len(times) < 3 or (spent < budget and len(times) < most):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
        spent += times[-1] / 1000
    return statistics.median(times)


def setup(participants: int) -> tuple[int, int, int]:
    """A live campaign with an advocate, ``participants`` people who joined through their
    links (two in three confirmed); (campaign id, advocate id, another referrer's id)."""
    _workspace, campaign = shop.live_campaign()
    db.session.commit()
    campaign_id = campaign.id
    ids: list[int] = []
    for i in range(participants):
        found = db.session.get_one(Campaign, campaign_id)
        code = None
        if ids:
            code = db.session.get_one(Participation, ids[0 if i % 2 else i // 3]).referral_code
        joined = join_campaign(found, JoinRequest(email=f"p{i}@example.org", referral_code=code))
        if i % 3:
            confirm_participation(joined.participation)
        ids.append(joined.participation.id)
    return campaign_id, ids[0], ids[1]


def _no_statement_timeout(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    dbapi_connection.commit()


def run(url: str, sizes: list[int], participants: int) -> list[tuple[int, float, float]]:
    app = create_app(test_config(url))
    rows: list[tuple[int, float, float]] = []
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # building 10^7 rows takes minutes
            event.listen(db.engine, "connect", _no_statement_timeout)
            db.engine.dispose()
        db.drop_all()
        db.create_all()
        campaign_id, advocate_id, other_id = setup(participants)
        sql = PG_CLICKS if db.engine.dialect.name == "postgresql" else SQLITE_CLICKS
        have = 0
        for size in sizes:
            started = time.perf_counter()
            params = {"campaign": campaign_id, "advocate": advocate_id, "other": other_id}
            db.session.execute(text(sql), {**params, "n": size - have})
            db.session.commit()
            have = size
            counters.reconcile(campaign_id)
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE clicks"))
                db.session.commit()
            built = time.perf_counter() - started
            with_counters = timed(lambda: page_view(campaign_id, advocate_id))
            kept = (counters.campaign_counts, counters.participation_counts)
            counters.campaign_counts = counted_campaign  # type: ignore[assignment]
            counters.participation_counts = counted_participations  # type: ignore[assignment]
            try:
                with_count = timed(lambda: page_view(campaign_id, advocate_id))
            finally:
                counters.campaign_counts, counters.participation_counts = kept
            views = page_view_counts(campaign_id, advocate_id)
            print(
                f"  {size:>10,} clicks (built in {built:.1f} s): counters {with_counters:8.2f} ms,"
                f" COUNT {with_count:9.2f} ms per page view ({views})",
                flush=True,
            )
            rows.append((size, with_counters, with_count))
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return rows


def page_view_counts(campaign_id: int, advocate_id: int) -> str:
    """What the page shows, to check both variants count the same."""
    campaign = db.session.get_one(Campaign, campaign_id)
    visits = dashboard.funnel(campaign)["visits"]
    view: dict[str, Any] = advocates.advocate_view(db.session.get_one(Participation, advocate_id))
    db.session.rollback()
    return f"visits {visits:,}, advocate clicks {view['clicks']:,}, joined {view['joined']}"


def report(label: str, rows: list[tuple[int, float, float]]) -> None:
    if len(rows) < 2:
        return
    (small, c0, n0), (large, c1, n1) = rows[0], rows[-1]
    print(
        f"{label}: {large:,}/{small:,} clicks, ratio largest/smallest: "
        f"counters {c1 / c0:.2f}, COUNT {n1 / n0:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="4,5,6,7", help="powers of ten of clicks")
    parser.add_argument("--sqlite-max", type=int, default=7, help="largest power on SQLite")
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432/test")
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    args = parser.parse_args()
    powers = [int(p) for p in args.sizes.split(",")]
    results = {}
    if args.only != "postgresql":
        print("sqlite", flush=True)
        sizes = [10**p for p in powers if p <= args.sqlite_max]
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            results["sqlite"] = run(
                f"sqlite:///{Path(tmp) / 'bench.sqlite'}", sizes, args.participants
            )
    if args.only != "sqlite":
        print("postgresql", flush=True)
        name = "referral_bench_counters"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = f"{args.pg.rpartition('/')[0]}/{name}"
            results["postgresql"] = run(url, [10**p for p in powers], args.participants)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for label, rows in results.items():
        report(label, rows)


if __name__ == "__main__":
    main()
