"""The app node of the Dockerfile behind a load balancer that speaks the PROXY protocol
(deploy/nginx.conf, docs/SCALING.md): gunicorn, run with the image's own command, hands the
app each visitor's address, so the limits per visitor stay per visitor although every
connection comes from the balancer; a plain request (the container's health check) works too.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from referral import config as settings
from referral import create_app
from referral.extensions import db
from tests.conftest import csrf_from
from tests.factories import free_port

ROOT = Path(__file__).resolve().parents[2]
PER_ADDRESS = 3  # refused sign-ins per visitor address a minute


def image_command(port: int) -> list[str]:
    """The Dockerfile's CMD, bound to 127.0.0.1:``port`` instead of the container's port."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    command = re.findall(r'"([^"]+)"', dockerfile.partition("\nCMD")[2])
    assert command[0] == "gunicorn" and "0.0.0.0:8000" in command
    command[0] = str(Path(sys.executable).parent / "gunicorn")
    command[command.index("0.0.0.0:8000")] = f"127.0.0.1:{port}"
    return command


class Proxied(http.client.HTTPConnection):
    """A connection that starts as the load balancer starts each one: with a PROXY protocol
    v1 line naming the visitor (``visitor`` None: a plain connection)."""

    def __init__(self, port: int, visitor: str | None) -> None:
        super().__init__("127.0.0.1", port, timeout=15)
        self.visitor = visitor

    def connect(self) -> None:
        super().connect()
        if self.visitor is not None:
            line = f"PROXY TCP4 {self.visitor} 127.0.0.1 51000 {self.port}\r\n"
            self.sock.sendall(line.encode("ascii"))


@pytest.fixture
def node(tmp_path: Path) -> Iterator[int]:
    """One app node started with the image's command, on a SQLite file."""
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    app = create_app(settings.test_config(url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "proxy-protocol-" + "0" * 40,
        "RATELIMIT_STORAGE_URI": f"referral-sqlite://{tmp_path / 'ratelimits.sqlite'}",
        "HUEY_SQLITE": str(tmp_path / "huey.sqlite"),
        "LOGIN_IP_RATE_LIMIT": f"{PER_ADDRESS} per minute",
    }
    env.pop("REDIS_URL", None)
    with (tmp_path / "node.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [*image_command(port), "--graceful-timeout", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail((tmp_path / "node.log").read_text(errors="replace")[-3000:])
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        return health(port)[0] == 200
    except OSError:
        return False


def health(port: int) -> tuple[int, dict[str, str]]:
    """``/healthz`` as the container's health check asks it: plain HTTP, no PROXY line."""
    connection = Proxied(port, None)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def refused_sign_in(port: int, visitor: str) -> tuple[int, str | None]:
    """The sign-in form fetched and sent with a wrong password, from ``visitor``'s address;
    returns the status and the ``Connection`` header of the answer."""
    page = Proxied(port, visitor)
    page.request("GET", "/login")
    shown = page.getresponse()
    cookie = (shown.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = csrf_from(shown.read().decode())
    page.close()
    form = urlencode({"email": "someone@example.com", "password": "wrong", "csrf_token": token})
    sent = Proxied(port, visitor)
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    sent.request("POST", "/login", body=form, headers=headers)
    answer = sent.getresponse()
    answer.read()
    sent.close()
    return answer.status, answer.getheader("Connection")


@pytest.mark.slow
def test_the_image_command_counts_sign_ins_per_visitor_behind_the_balancer(node: int) -> None:
    first = [refused_sign_in(node, "203.0.113.10") for _ in range(PER_ADDRESS + 1)]
    assert [status for status, _ in first] == [422] * PER_ADDRESS + [429]
    # Another visitor through the same balancer has a limit of its own.
    assert refused_sign_in(node, "198.51.100.20")[0] == 422
    # No connection is kept alive: each request brings its own PROXY line.
    assert {connection for _, connection in first} == {"close"}
    status, body = health(node)
    assert (status, body["status"]) == (200, "ok")
