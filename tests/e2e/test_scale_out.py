"""The scale-out shape of docs/SCALING.md, for real: two gunicorn nodes and two huey consumers
on one PostgreSQL database and one Redis act as one service.

* a sign-in limit holds in total: refused sign-ins sent to the nodes in turn are counted
  together;
* every queued e-mail is delivered exactly once, though two consumers drain the outbox at
  the same time (a local SMTP server holds the first message until a second one arrives, so
  the second consumer must have delivered while the first was still sending);
* a confirmation link opened on both nodes at once pays each ledger line once.

Runs only with TEST_DATABASE_URL (PostgreSQL) and a Redis on 127.0.0.1:6379. It migrates its
own database with ``referral db upgrade`` and drops it afterwards, and uses a Redis database
number that was empty, which it empties again at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text

from referral import config as settings
from referral import create_app
from referral.extensions import db
from referral.models import Event, LedgerEntry, OutboxMessage, Participation
from tests.conftest import PG_URL, csrf_from
from tests.factories import Factory, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_CLAIM = "referral-scale-out-test:claim"
SECRET_KEY = "scale-out-" + "0" * 40
FRIENDS = 8  # below the referral-burst flag (BURST_LIMIT in referral/domain/fraud.py)
SIGN_IN_LIMIT = 5
CONFIRM_PATH = re.compile(r"https?://\S+?(/confirm/[A-Za-z0-9_\-]+)")


def _needs(reason: str) -> None:
    """CI runs with PostgreSQL and Redis up: there a missing one is a failure."""
    if PG_URL and os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _until(condition: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll ``condition`` until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


# --- the shared services ---------------------------------------------------------------------


@pytest.fixture
def backing() -> None:
    """PostgreSQL (TEST_DATABASE_URL) and Redis, or the test is skipped with the reason."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL and Redis: set TEST_DATABASE_URL (runs with Redis up)")
    try:
        redis.Redis(REDIS_HOST, REDIS_PORT, socket_timeout=2).ping()
    except redis.RedisError:
        _needs(f"needs Redis on {REDIS_HOST}:{REDIS_PORT} beside PostgreSQL")


@pytest.fixture
def redis_url(backing: None) -> Iterator[str]:
    """A Redis database number nobody uses (empty when claimed), emptied after the test."""
    token = secrets.token_hex(8)
    for number in range(15, 0, -1):
        client = redis.Redis(REDIS_HOST, REDIS_PORT, db=number, socket_timeout=2)
        try:
            if client.dbsize() or not client.set(REDIS_CLAIM, token, nx=True, ex=600):
                continue
        except redis.ResponseError:
            continue  # a server with fewer databases
        if client.dbsize() == 1:
            break
        client.delete(REDIS_CLAIM)  # someone else wrote there at the same moment
    else:
        pytest.fail("no empty Redis database among 1 to 15")
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def database(backing: None, worker_id: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own, migrated once as a release is."""
    base = PG_URL.rpartition("/")[0]
    name = f"referral_scale_{worker_id}_{os.getpid()}".lower()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    try:
        subprocess.run(  # noqa: S603
            [str(BIN / "referral"), "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY},
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Received:
    message_id: str
    to: str
    subject: str
    body: str


@dataclass
class Sink:
    """An SMTP server that keeps every message. It holds the first message until another
    one arrives (at most ``HOLD`` seconds, below the sender's ten-second timeout): with one
    worker thread per consumer, that other message came from the other consumer."""

    HOLD = 8.0
    received: list[Received] = field(default_factory=list)
    overlapped: bool = False
    _first: asyncio.Event | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        part = parsed.get_body(preferencelist=("plain",))
        self.received.append(
            Received(
                str(parsed["Message-ID"]),
                str(parsed["To"]),
                str(parsed["Subject"]),
                part.get_content() if part is not None else "",
            )
        )
        if self._first is None:
            self._first = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first.wait(), self.HOLD)
            self.overlapped = self._first.is_set()
        else:
            self._first.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# --- the nodes and consumers -----------------------------------------------------------------


@dataclass
class Shop:
    """What the test seeded: a live campaign, its API key, the nodes' addresses."""

    nodes: list[str]
    campaign_id: int
    api_key: str
    app: Any

    def api(self, node: int, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        url = f"{self.nodes[node % 2]}/api/v1{path}"
        return requests.request(method, url, headers=headers, timeout=15, **kw)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603


def _healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"{base} exited:\n{log.read_text(errors='replace')[-3000:]}")
    try:
        return requests.get(f"{base}/healthz", timeout=2).json()["status"] == "ok"
    except requests.RequestException:
        return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _seed(database: str) -> tuple[Any, int, str]:
    app = create_app(settings.test_config(database))
    with app.app_context():
        factory = Factory()
        workspace = factory.workspace()
        campaign = factory.campaign(workspace, status="live", slug="scale-out")
        _, secret = factory.api_key(workspace)
        campaign_id = campaign.id
        db.session.remove()
    return app, campaign_id, secret


@pytest.fixture
def shop(database: str, redis_url: str, sink: tuple[Sink, int], tmp_path: Path) -> Iterator[Shop]:
    """Two app nodes (gunicorn) and two huey consumers, all with the same settings; the
    shop's campaign is seeded while they start."""
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": SECRET_KEY,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "MAIL_URL": f"smtp://127.0.0.1:{sink[1]}",
        "MAIL_FROM": "shop@example.com",
        "PUBLIC_BASE_URL": "https://refer.example.com",
        "REFERRAL_ENV": "production",
        "SESSION_COOKIE_SECURE": "false",  # the test speaks plain HTTP to the nodes
        "LOGIN_RATE_LIMIT": f"{SIGN_IN_LIMIT} per minute",
    }
    processes: list[subprocess.Popen[bytes]] = []
    app = None
    try:
        ports = [free_port(), free_port()]
        servers = []
        for n, port in enumerate(ports):
            log = tmp_path / f"node{n}.log"
            command = [str(BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "4"]
            command += ["-b", f"127.0.0.1:{port}", "--graceful-timeout", "2", "wsgi:app"]
            servers.append((f"http://127.0.0.1:{port}", _start(command, env, log), log))
            processes.append(servers[-1][1])
        consumers = []
        for n in range(2):
            log = tmp_path / f"consumer{n}.log"
            command = [str(BIN / "huey_consumer"), "referral.tasks.huey", "-w", "1", "-k", "thread"]
            processes.append(_start(command, env, log))
            consumers.append(log)
        app, campaign_id, secret = _seed(database)
        for base, process, log in servers:
            _until(lambda b=base, p=process, lg=log: _healthy(b, p, lg), f"{base}/healthz", 60)
        for log in consumers:
            _until(lambda lg=log: b"consumer started" in lg.read_bytes(), f"{log.name}", 60)
        yield Shop([base for base, _, _ in servers], campaign_id, secret, app)
    finally:
        _stop(processes)
        if app is not None:
            with app.app_context():
                db.engine.dispose()


# --- the test --------------------------------------------------------------------------------


def _sign_in_limit_holds_in_total(shop: Shop) -> None:
    """Refused sign-ins sent to node 1 and node 2 in turn: the limit counts them together.
    The CSRF token and session cookie of node 1 are good on node 2 (one SECRET_KEY)."""
    browser = requests.Session()
    token = csrf_from(browser.get(f"{shop.nodes[0]}/login", timeout=15).text)
    form = {"email": "someone@example.com", "password": "not the password", "csrf_token": token}
    answers = [
        browser.post(f"{shop.nodes[n % 2]}/login", data=form, timeout=15)
        for n in range(2 * SIGN_IN_LIMIT)
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [422] * SIGN_IN_LIMIT + [429] * SIGN_IN_LIMIT
    assert all(answer.headers["Retry-After"] for answer in answers[SIGN_IN_LIMIT:])


def _rules_and_people(shop: Shop) -> tuple[dict[int, int], int, dict[str, int]]:
    """Rules paying the friend (level 0) and the referrer (level 1) on confirmation; Anna
    (confirmed) and FRIENDS people she referred, who join through either node and so each
    queue a confirmation e-mail. Returns ({level: rule id}, Anna's id, {friend: id})."""
    rules = {}
    for level, amount in ((0, 10), (1, 50)):
        body = {"event": "signup_confirmed", "level": level, "reward": "points", "amount": amount}
        answer = shop.api(level, "POST", f"/campaigns/{shop.campaign_id}/reward-rules", json=body)
        assert answer.status_code == 201, answer.text
        rules[level] = int(answer.json()["id"])
    people = f"/campaigns/{shop.campaign_id}/participants"
    anna = shop.api(0, "POST", people, json={"email": "anna@example.com", "confirmed": True})
    assert anna.status_code == 201, anna.text
    code = anna.json()["referral_code"]
    friends = {}
    for n in range(FRIENDS):
        address = f"friend{n}@example.com"
        joined = shop.api(n, "POST", people, json={"email": address, "referral_code": code})
        assert joined.status_code == 201, joined.text
        assert joined.json()["referral_status"] == "referred"
        friends[address] = int(joined.json()["id"])  # ids are strings in the API
    return rules, int(anna.json()["id"]), friends


def _outbox(shop: Shop) -> list[OutboxMessage]:
    with shop.app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.remove()
    return rows


def _all_sent(shop: Shop, at_least: int) -> list[OutboxMessage] | None:
    rows = _outbox(shop)
    return rows if len(rows) >= at_least and all(r.status == "sent" for r in rows) else None


def _each_mail_once(shop: Shop, sink: Sink, at_least: int) -> list[OutboxMessage]:
    """Wait until the outbox holds ``at_least`` messages, all sent; then the SMTP server
    must have received each exactly once, by its stable Message-ID."""
    rows = _until(lambda: _all_sent(shop, at_least), f"{at_least} sent messages")
    expected = {f"<outbox.{row.id}.{row.workspace_id}@example.com>" for row in rows}
    received = Counter(message.message_id for message in sink.received)
    assert set(received) == expected
    assert set(received.values()) == {1}, received
    return rows


def _confirm_everyone_on_both_nodes(shop: Shop, links: list[str]) -> list[int]:
    """Each link opened twice at the same moment, once on each node; returns the statuses."""
    start = threading.Barrier(2 * len(links))

    def open_link(n: int) -> int:
        start.wait(timeout=30)
        url = f"{shop.nodes[n % 2]}{links[n // 2]}"
        return requests.get(url, timeout=30, allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=2 * len(links)) as pool:
        return list(pool.map(open_link, range(2 * len(links))))


def _payments(shop: Shop) -> tuple[Counter[tuple[int, int, int | None]], Counter[int], list[str]]:
    """(beneficiary, level, rule) of every ledger line, the signup_confirmed events per
    participant, and the statuses of the campaign's participations."""
    with shop.app.app_context():
        lines = Counter(
            (row.participation_id, row.level, row.rule_id)
            for row in db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        )
        events = Counter(
            db.session.scalars(
                select(Event.participation_id)
                .where(Event.kind == "signup_confirmed")
                .order_by(Event.participation_id)
            )
        )
        statuses = list(
            db.session.scalars(
                select(Participation.status)
                .where(Participation.campaign_id == shop.campaign_id)
                .order_by(Participation.id)
            )
        )
        db.session.remove()
    return lines, events, statuses


@pytest.mark.slow
def test_two_nodes_and_two_consumers_on_one_postgresql_and_redis_act_as_one(
    shop: Shop, sink: tuple[Sink, int]
) -> None:
    smtp = sink[0]
    _sign_in_limit_holds_in_total(shop)

    rules, anna, friends = _rules_and_people(shop)
    sent = _each_mail_once(shop, smtp, at_least=FRIENDS)
    assert smtp.overlapped, "the second consumer never delivered while the first was sending"
    confirmations = [m for m in smtp.received if m.subject.startswith("Please confirm")]
    assert sorted(m.to for m in confirmations) == sorted(friends)
    assert len(confirmations) == sum(1 for row in sent if row.kind == "confirmation")

    links = []
    for address in sorted(friends):
        (body,) = [m.body for m in confirmations if m.to == address]
        match = CONFIRM_PATH.search(body)
        assert match, body
        links.append(match.group(1))
    statuses = _confirm_everyone_on_both_nodes(shop, links)
    assert statuses == [200] * (2 * FRIENDS)

    lines, events, participations = _payments(shop)
    assert participations == ["confirmed"] * (FRIENDS + 1)
    assert events == {anna: 1, **{friend: 1 for friend in friends.values()}}
    assert lines == {
        **{(friend, 0, rules[0]): 1 for friend in friends.values()},
        (anna, 1, rules[1]): FRIENDS,
    }
    # Whatever the confirmations queued is delivered once too.
    _each_mail_once(shop, smtp, at_least=len(sent))
