"""Sign-ups per second over HTTP, as a visitor does them, against a bare Flask form.

The real app (``wsgi:app``) runs under gunicorn (2 sync workers by default) on 127.0.0.1,
on a fresh database migrated with ``referral db upgrade``: a SQLite file by default, or a
dedicated PostgreSQL database created (and dropped afterwards) beside the admin URL given
with ``--pg``. One live referral campaign pays 50 points to a confirmed person and 100 to
their referrer (``signup_confirmed``, levels 0 and 1). The rate limits are raised for the run
through the environment (``JOIN_RATE_LIMIT``, ``JOIN_CAMPAIGN_RATE_LIMIT``,
``CONFIRM_RATE_LIMIT``), so they are still counted, in the shared SQLite counter file of a
real run, but do not bite; everything else is the production configuration.

``--concurrency`` client threads in this process, each on its own HTTP connection, play the
visitors. Each visitor has its own cookies and user agent and does what a browser does:
1. ``GET /c/bench`` (about 85 % of them with ``?ref=`` and the code of an earlier visitor,
   read from that visitor's thank-you page; at most 9 friends each, so no referrer looks like
   a burst to the fraud signals), which hands out the CSRF token, the form's time stamp and
   the session, visitor and first-touch cookies;
2. after 2.1 s on the page (the form refuses anything sent within 2 s), ``POST /c/bench``
   with the CSRF token, the address, the consent box ticked and the honeypot left empty,
   answered 303, and the ``GET`` of the "check your inbox" page it redirects to;
3. ``GET /confirm/<token>`` with the link of the confirmation mail. The mail waits in the
   outbox table for the worker (no worker runs here: the wake-ups are queued in a huey
   SQLite file of the run, and no mail leaves): one thread in this process plays the
   mailbox, reading the confirmation mails of the visitors waiting for one from
   ``outbox_messages`` and taking the link out of the text (a visitor whose mail has not
   come after 60 s is counted as a failure).
A thread never sits idle through step 2: it shows the form to the next visitors meanwhile.

Then the same threads drive ``bench/bare_form_app.py`` under the same gunicorn settings: its
form page, a POST that inserts one row in one commit (same database), and the page it
redirects to, with the same 2.1 s on the page. Printed for both: sign-ups per second of
the time with at least one request in flight (the servers' rate, without the seconds when
every visitor in flight is reading the form: at the start, while the last ones finish, and
while the first referred visitors wait for a first code to exist), and over the whole run;
p50 and p99 latency per request type; the 4xx and 5xx counts; the rows in the database against
the answers; and the ratio referral/bare of the servers' rates (goal >= 0.30). Exits non-zero
on any 4xx or 5xx, failed connection or lost sign-up (rows and answers that differ).

    .venv/bin/python bench/signup_http.py [--n 2000] [--concurrency 8] [--workers 2]
        [--seed 7] [--pg postgresql+psycopg://root@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SLUG = "bench"
ON_PAGE = 2.1  # seconds between showing the form and sending it (the app wants >= 2)
REFERRED = 0.85
MAX_FRIENDS = 9  # the fraud signals flag a referrer's 10th friend within an hour
CODE_PATIENCE = 10.0  # seconds a referred visitor waits for the first codes to exist
MAIL_PATIENCE = 60.0  # seconds a visitor waits for the confirmation mail
HIGH = "1000000 per minute"
PG_NAME = "referral_bench_signup_http"

SEED = """
import sys
sys.path.insert(0, "bench")
import shop
from bare_form_app import engine, metadata
from referral import create_app
from referral.extensions import db
from referral.models import RewardRule
metadata.create_all(engine)
engine.dispose()
app = create_app()
with app.app_context():
    _, campaign = shop.live_campaign()
    for level, amount in ((0, 50), (1, 100)):
        db.session.add(RewardRule(campaign_id=campaign.id, event="signup_confirmed",
                                  level=level, reward="points", amount=amount))
    db.session.commit()
"""

INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'(name|value|type)="([^"]*)"')
CONFIRM_LINK = re.compile(r"/confirm/([A-Za-z0-9_-]+)")


# --- the visitors ----------------------------------------------------------------------------


@dataclass
class Visitor:
    index: int
    email: str
    agent: str
    wants_ref: bool
    pick: float
    cookies: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    since: float = 0.0  # waiting for a code to refer with, then for the mail, since
    floor: int = 0
    shown: float = 0.0


def visitor(seed: int, index: int) -> Visitor:
    rng = random.Random(f"{seed}:{index}")
    return Visitor(
        index=index,
        email=f"person{index}@example.org",
        agent=f"Mozilla/5.0 (X11; Linux x86_64; rv:{100 + index % 50}.0) Gecko/20100101 v{index}",
        wants_ref=rng.random() < REFERRED,
        pick=rng.random(),
    )


def hidden_fields(page: str) -> dict[str, str]:
    """The form's hidden inputs (CSRF token, time stamp, referral code) as a browser sends them."""
    found = {}
    for tag in INPUT.findall(page):
        attributes = dict(ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            found[attributes["name"]] = attributes.get("value", "")
    return found


@dataclass
class Load:
    """What the client threads share: the next visitor, earlier codes, the mailbox, figures."""

    n: int
    seed: int
    confirms: bool
    base: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    mail: threading.Condition = field(default_factory=threading.Condition)
    started: int = 0
    codes: list[str] = field(default_factory=list)
    friends: Counter[str] = field(default_factory=Counter)
    mailbox: dict[str, str] = field(default_factory=dict)
    awaited: dict[str, int] = field(default_factory=dict)  # address: newest mail id before
    newest_mail: int = 0
    done: bool = False
    completed: int = 0
    in_flight: int = 0
    busy_since: float = 0.0
    busy_seconds: float = 0.0
    referred: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def next_visitor(self) -> Visitor | None:
        with self.lock:
            if self.started >= self.n:
                return None
            self.started += 1
            return visitor(self.seed, self.started - 1)

    def referral_code(self, person: Visitor) -> bool:
        """Give ``person`` an earlier visitor's code if they come through a friend's link;
        False while they must wait for a first code (at most CODE_PATIENCE seconds)."""
        with self.lock:
            if not (person.wants_ref and self.confirms):
                return True
            if not self.codes:
                person.since = person.since or time.monotonic()
                return time.monotonic() - person.since > CODE_PATIENCE
            person.code = self.codes[int(person.pick * len(self.codes))]
            self.friends[person.code] += 1
            if self.friends[person.code] >= MAX_FRIENDS:
                self.codes.remove(person.code)
            self.referred += 1
            return True

    def add_code(self, code: str) -> None:
        with self.lock:
            self.codes.append(code)
            self.completed += 1
        with self.mail:
            self.mail.notify_all()

    def finish(self) -> None:
        with self.lock:
            self.completed += 1

    def busy(self, change: int) -> None:
        """One more (+1) or one fewer (-1) request in flight; adds up the time with any."""
        with self.lock:
            now = time.perf_counter()
            if self.in_flight:
                self.busy_seconds += now - self.busy_since
            self.busy_since = now
            self.in_flight += change

    def steady_rate(self) -> float:
        """Sign-ups per second of the time the servers had a request to work on: without the
        seconds when every visitor in flight was reading the form (at the start, and while
        the last ones finish) or waiting for the first codes to refer friends with."""
        return self.completed / self.busy_seconds if self.busy_seconds else 0.0

    def record(self, kind: str, status: int | None, seconds: float, error: str = "") -> None:
        with self.lock:
            if status is None:
                self.failures.append(f"{kind}: {error}")
                return
            self.latencies.setdefault(kind, []).append(seconds)
            self.statuses.setdefault(kind, Counter())[status] += 1

    def expect_mail(self, person: Visitor) -> None:
        with self.mail:
            self.awaited[person.email] = person.floor
            person.since = time.monotonic()

    def mail_floor(self) -> int | None:
        """The outbox id above which every awaited mail lies, None when none is awaited."""
        with self.mail:
            return min(self.awaited.values()) if self.awaited else None

    def deliver(self, rows: list[tuple[int, str, str]]) -> None:
        with self.mail:
            for mail_id, address, body in rows:
                self.newest_mail = max(self.newest_mail, mail_id)
                link = CONFIRM_LINK.search(body)
                if address in self.awaited and link:
                    self.mailbox[address] = link.group(1)
            self.mail.notify_all()

    def take_mail(self, waiting: list[Visitor]) -> tuple[Visitor, str] | None:
        """A waiting visitor's confirmation link, once it has arrived; one who has waited
        MAIL_PATIENCE seconds in vain is given up on (and counted as a failure)."""
        with self.mail:
            for person in waiting:
                token = self.mailbox.pop(person.email, None)
                late = token is None and time.monotonic() - person.since > MAIL_PATIENCE
                if token is not None or late:
                    waiting.remove(person)
                    del self.awaited[person.email]
                    break
            else:
                return None
        if token is None:
            self.record("confirm GET", None, 0.0, f"no confirmation mail for {person.email}")
            return None
        return person, token


class Client:
    """One thread's connection: requests with a visitor's cookies, timed and counted."""

    def __init__(self, load: Load, port: int) -> None:
        self.load = load
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def send(
        self, kind: str, person: Visitor, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str] | None:
        headers = {
            "User-Agent": person.agent,
            "Accept": "text/html",
            "Accept-Language": "en",
        }
        if person.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in person.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.load.busy(+1)
        began = time.perf_counter()
        try:
            self.connection.request("POST" if form else "GET", path, body=body, headers=headers)
            response = self.connection.getresponse()
            page = response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.load.record(kind, None, 0.0, repr(error))
            return None
        finally:
            self.load.busy(-1)
        self.load.record(kind, response.status, time.perf_counter() - began)
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            person.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), page

    def show(self, person: Visitor) -> bool:
        path = f"/c/{SLUG}" + (f"?ref={person.code}" if person.code else "")
        answer = self.send("landing GET", person, path)
        if answer is None or answer[0] != 200:
            return False
        person.form = hidden_fields(answer[2])
        person.shown = time.monotonic()
        return True

    def submit(self, person: Visitor) -> bool:
        form = {**person.form, "email": person.email, "consent": "y", "website": ""}
        with self.load.mail:  # the mail will have a later id: it is inserted after this
            person.floor = self.load.newest_mail
        answer = self.send("join POST", person, f"/c/{SLUG}", form)
        if answer is None or answer[0] != 303:
            return False
        location = urllib.parse.urlsplit(answer[1]).path
        joined = self.send("joined GET", person, location)
        return joined is not None and joined[0] == 200

    def confirm(self, person: Visitor, token: str) -> None:
        answer = self.send("confirm GET", person, f"/confirm/{token}")
        if answer is None or answer[0] != 200:
            return
        code = re.search(re.escape(self.load.base) + r"/r/([A-Za-z0-9_-]+)", answer[2])
        if code is None:
            self.load.record("confirm GET", None, 0.0, "no referral link on the thank-you page")
            return
        self.load.add_code(code.group(1))


class Thread:
    """One client thread's visitors: those on the form, and those waiting for their mail."""

    def __init__(self, load: Load, port: int) -> None:
        self.load = load
        self.client = Client(load, port)
        self.on_page: deque[Visitor] = deque()
        self.waiting: list[Visitor] = []
        self.upcoming: Visitor | None = None

    def step(self) -> bool:
        """Do the most advanced thing that can be done now: confirm what the mail brought,
        send a form that has been on screen long enough, or show the form to the next
        visitor. False when there is nothing to do yet."""
        arrived = self.load.take_mail(self.waiting) if self.waiting else None
        if arrived is not None:
            self.client.confirm(*arrived)
        elif self.on_page and self.on_page[0].shown + ON_PAGE <= time.monotonic():
            self.send_form(self.on_page.popleft())
        elif self.upcoming is not None and self.load.referral_code(self.upcoming):
            if self.client.show(self.upcoming):
                self.on_page.append(self.upcoming)
            self.upcoming = self.load.next_visitor()
        else:
            return False
        return True

    def send_form(self, person: Visitor) -> None:
        if not self.client.submit(person):
            return
        if not self.load.confirms:
            self.load.finish()
            return
        self.waiting.append(person)
        self.load.expect_mail(person)

    def run(self) -> None:
        self.upcoming = self.load.next_visitor()
        while self.upcoming is not None or self.on_page or self.waiting:
            if self.step():
                continue
            now = time.monotonic()
            due = self.on_page[0].shown + ON_PAGE - now if self.on_page else 0.05
            with self.load.mail:  # woken by new mail and new codes
                self.load.mail.wait(timeout=max(min(due, 0.05), 0.001))
        self.client.connection.close()


def read_mail(load: Load, url: str) -> None:
    """The mailbox: the confirmation mails of the visitors waiting for one. Each lies above
    the newest id seen before its form was sent (ids are handed out in order, but the
    transactions that take them commit in any order, so a high-water mark would miss some)."""
    engine = create_engine(url)
    query = text(
        "SELECT id, to_address, body_text FROM outbox_messages"
        " WHERE id > :floor AND kind = 'confirmation' ORDER BY id"
    )
    while not load.done:
        floor = load.mail_floor()
        if floor is not None:
            with engine.connect() as connection:
                rows = connection.execute(query, {"floor": floor}).all()
            load.deliver([(int(i), str(to), str(body)) for i, to, body in rows])
        time.sleep(0.01)
    engine.dispose()


def generate(load: Load, port: int, concurrency: int, url: str) -> float:
    """Run the visitors; the seconds from the first request to the last answer."""
    mailbox = threading.Thread(target=read_mail, args=(load, url), daemon=True)
    if load.confirms:
        mailbox.start()
    threads = [
        threading.Thread(target=Thread(load, port).run, daemon=True) for _ in range(concurrency)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    load.done = True
    if load.confirms:
        mailbox.join()
    return elapsed


# --- servers and databases -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the form answers 200 many times in a row: gunicorn binds before its workers
    have loaded the app (this also renders the landing page once in each worker)."""
    answered = 0
    for _ in range(1200):
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn on {port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/c/{SLUG}", timeout=10) as page:
                answered += page.status == 200
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.05)
        if answered >= 20:
            return
    raise RuntimeError(f"gunicorn on {port} did not start")


@contextmanager
def gunicorn(target: str, workers: int, env: dict[str, str]) -> Iterator[int]:
    """``target`` served on a free port of 127.0.0.1; stopped (gracefully) on the way out."""
    port = _free_port()
    cmd = [str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning", target],
        cwd=ROOT,
        env={**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
        start_new_session=True,
    )
    try:
        _wait_until_serving(port, proc)
        yield port
    finally:
        proc.terminate()  # the workers finish their requests and flush the click buffer
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def environment(url: str, tmp: Path) -> dict[str, str]:
    """A production configuration on ``url``, with its shared files in ``tmp``."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "RATELIMIT_STORAGE_URI"}}
    return {
        **env,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key",
        "REFERRAL_ENV": "production",
        "SESSION_COOKIE_SECURE": "false",  # plain http on the loopback
        "MAIL_URL": "",
        "RATELIMIT_STORAGE_URI": f"referral-sqlite://{tmp / 'ratelimits.sqlite'}",
        "HUEY_SQLITE": str(tmp / "huey.sqlite"),
        "JOIN_RATE_LIMIT": HIGH,
        "JOIN_CAMPAIGN_RATE_LIMIT": HIGH,
        "CONFIRM_RATE_LIMIT": HIGH,
    }


def prepare(env: dict[str, str]) -> None:
    """Migrate the empty database and seed the campaign, its rules and the bare table."""
    for cmd in ([str(BIN / "referral"), "db", "upgrade"], [str(BIN / "python"), "-c", SEED]):
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)


ROWS = {
    "participations": "SELECT count(*) FROM participations",
    "confirmed": "SELECT count(*) FROM participations WHERE confirmed_at IS NOT NULL",
    "flagged": "SELECT count(*) FROM participations WHERE status = 'flagged'",
    "with referrer": "SELECT count(*) FROM participations WHERE referrer_id IS NOT NULL",
    "clicks": "SELECT count(*) FROM clicks",
    "ledger lines": "SELECT count(*) FROM ledger_entries",
    "confirmation mails": "SELECT count(*) FROM outbox_messages WHERE kind = 'confirmation'",
    "bare rows": "SELECT count(*) FROM bare_signups",
}


def count_rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = {name: int(connection.scalar(text(sql)) or 0) for name, sql in ROWS.items()}
    engine.dispose()
    return rows


@contextmanager
def database(pg: str | None, tmp: Path) -> Iterator[str]:
    """A fresh SQLite file in ``tmp``, or a dedicated PostgreSQL database beside ``pg``."""
    if not pg:
        yield f"sqlite:///{tmp / 'bench.sqlite'}"
        return
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
    try:
        yield f"{pg.rpartition('/')[0]}/{PG_NAME}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        admin.dispose()


# --- the report ------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(label: str, load: Load, seconds: float) -> tuple[float, int, int]:
    """Print one app's figures; return sign-ups per second, 4xx and 5xx counts."""
    per_second = load.steady_rate()
    done = load.completed
    print(
        f"{label}: {per_second:.1f} sign-ups/s ({done} sign-ups in {load.busy_seconds:.1f} s"
        f" with requests in flight; {done / seconds:.1f}/s over the whole {seconds:.1f} s)"
    )
    client_errors = server_errors = 0
    for kind, latencies in load.latencies.items():
        statuses = load.statuses[kind]
        client_errors += sum(c for s, c in statuses.items() if 400 <= s < 500)
        server_errors += sum(c for s, c in statuses.items() if s >= 500)
        shown = ", ".join(f"{s}: {c}" for s, c in sorted(statuses.items()))
        print(
            f"  {kind:12s} p50 {_percentile(latencies, 0.5) * 1000:7.1f} ms"
            f"  p99 {_percentile(latencies, 0.99) * 1000:7.1f} ms   {shown}"
        )
    print(f"  5xx: {server_errors}  4xx: {client_errors}  failed requests: {len(load.failures)}")
    for failure in load.failures[:5]:
        print(f"    {failure}")
    return per_second, client_errors, server_errors


def run(args: argparse.Namespace, url: str, env: dict[str, str]) -> bool:
    """Both apps on one database; True when nothing failed and nothing was lost."""
    prepare(env)
    loads = {}
    for label, target, confirms in (
        ("referral", "wsgi:app", True),
        ("bare", "bench.bare_form_app:app", False),
    ):
        with gunicorn(target, args.workers, env) as port:
            load = Load(args.n, args.seed, confirms, f"http://127.0.0.1:{port}")
            loads[label] = (load, generate(load, port, args.concurrency, url))
    rows = count_rows(url)
    database_label = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"{database_label}: n={args.n} concurrency={args.concurrency} "
        f"gunicorn -w {args.workers} -k sync, seed {args.seed}"
    )
    ours, ours_4xx, ours_5xx = report("referral", *loads["referral"])
    confirmations = loads["referral"][0].statuses.get("confirm GET", Counter())[200]
    print(
        f"  rows: {rows['participations']} participations, {rows['confirmed']} confirmed "
        f"= {confirmations} confirmations answered 200; {rows['with referrer']} with a referrer "
        f"({loads['referral'][0].referred} came by ?ref=, {rows['clicks']} clicks stored), "
        f"{rows['ledger lines']} ledger lines, {rows['flagged']} flagged, "
        f"{rows['confirmation mails']} confirmation mails"
    )
    bare, bare_4xx, bare_5xx = report("bare", *loads["bare"])
    posted = loads["bare"][0].statuses.get("join POST", Counter())[303]
    print(f"  rows: {rows['bare rows']} = {posted} posts answered 303")
    print(f"ratio referral/bare: {ours / bare:.2f}  (goal >= 0.30)")
    lost = (
        rows["confirmed"] != confirmations
        or confirmations != args.n
        or rows["participations"] != args.n
        or rows["bare rows"] != posted
        or posted != args.n
        or rows["clicks"] < loads["referral"][0].referred
    )
    failed = any(load.failures for load, _ in loads.values())
    if lost:
        print("LOST: rows and answers do not match the sign-ups made")
    return not (lost or failed or ours_5xx or bare_5xx or ours_4xx or bare_4xx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="sign-ups per app")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", default="", help="PostgreSQL admin URL (default: SQLite)")
    args = parser.parse_args()
    # Stopped from outside, it still stops its servers and drops its files and database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with (
        tempfile.TemporaryDirectory(prefix="signup-http-") as tmp,
        database(args.pg, Path(tmp)) as url,
    ):
        ok = run(args, url, environment(url, Path(tmp)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
