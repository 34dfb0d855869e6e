"""Several gunicorn workers on the embedded default (no Redis): the API's limit holds across
them exactly, and a worker killed with SIGKILL in the middle of the load loses no request
that the client retries with its Idempotency-Key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from referral import config as settings
from referral import create_app
from tests.factories import free_port, seed_live_campaign

GUNICORN = Path(sys.executable).parent / "gunicorn"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, int, subprocess.Popen[bytes]]]:
    """gunicorn with two workers on a SQLite file, the counters in the instance folder."""
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    app = create_app(settings.test_config(url))
    campaign_id, secret = seed_live_campaign(app, "workers")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "API_RATE_LIMIT": "20 per minute",
        "RATELIMIT_STORAGE_URI": f"referral-sqlite://{tmp_path / 'ratelimits.sqlite'}",
        "HUEY_SQLITE": str(tmp_path / "huey.sqlite"),
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(  # noqa: S603
        [
            str(GUNICORN),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "1",
            "wsgi:app",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{base}/healthz", timeout=5)
            break
        except requests.RequestException:
            time.sleep(0.1)
    try:
        yield base, secret, campaign_id, server
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_an_api_limit_of_20_a_minute_lets_exactly_20_through_two_workers(
    served: tuple[str, str, int, subprocess.Popen[bytes]],
) -> None:
    base, secret, _campaign_id, _server = served
    auth = {"Authorization": f"Bearer {secret}"}
    session = requests.Session()
    answers = Counter(
        session.get(f"{base}/api/v1/campaigns", headers=auth, timeout=10).status_code
        for _ in range(40)
    )
    assert answers == {200: 20, 429: 20}


@pytest.mark.slow
def test_a_killed_worker_loses_no_sign_up_the_client_retries(
    served: tuple[str, str, int, subprocess.Popen[bytes]],
) -> None:
    base, secret, campaign_id, server = served
    url = f"{base}/api/v1/campaigns/{campaign_id}/participants"
    auth = {"Authorization": f"Bearer {secret}"}
    workers = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(workers) == 2

    def join(n: int) -> int:
        try:
            return requests.post(
                url,
                json={"email": f"k{n}@example.com", "confirmed": True},
                headers={**auth, "Idempotency-Key": f"kill-{n}"},
                timeout=10,
            ).status_code
        except requests.ConnectionError:
            return 0  # the worker died under this request

    results = {n: join(n) for n in range(8)}
    os.kill(int(workers[0]), signal.SIGKILL)
    results |= {n: join(n) for n in range(8, 16)}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(s not in (200, 201) for s in results.values()):
        results |= {n: join(n) for n, s in results.items() if s not in (200, 201)}
        time.sleep(0.2)
    assert all(s in (200, 201) for s in results.values()), results
    listed = requests.get(url, headers=auth, params={"limit": 100}, timeout=10).json()["items"]
    emails = sorted(p["email"] for p in listed)
    assert emails == sorted(f"k{n}@example.com" for n in range(16))  # each exactly once
