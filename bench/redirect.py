"""Referral-link throughput: ``/r/<code>`` with click logging vs a bare Flask redirect.

Both run under the same gunicorn configuration on 127.0.0.1 and are driven by wrk (Debian
package ``wrk``) for the same time and connections. The judged figure is the ratio
ours / bare (goal >= 0.9). Afterwards the benchmark checks that every click wrk made was
stored (clicks are written off the request's critical path, but never dropped).

    .venv/bin/python bench/redirect.py [--seconds 10] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, path: str) -> None:
    """Until every worker answers: gunicorn binds before its workers have loaded the app."""
    opener = urllib.request.build_opener(_NoRedirect)
    answered = 0
    for _ in range(600):
        try:
            opener.open(f"http://127.0.0.1:{port}{path}", timeout=5)
        except urllib.error.HTTPError as error:
            answered += error.code == 302
        except OSError:
            pass
        if answered >= 20:
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _gunicorn(
    target: str, port: int, workers: int, env: dict[str, str], path: str
) -> subprocess.Popen[bytes]:
    cmd = [
        str(BIN / "gunicorn"),
        "-w",
        str(workers),
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        target,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    _wait(port, path)
    return proc


def _wrk(url: str, seconds: int, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} error responses from {url}")
    return rps, total


def _seed(env: dict[str, str]) -> str:
    code = (
        subprocess.run(
            [str(BIN / "python"), "-c", SEED],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return code


SEED = """
from referral import create_app
from referral.extensions import db
from referral.models import Campaign, Customer, Participation, Workspace
app = create_app()
with app.app_context():
    db.create_all()
    ws = Workspace(slug="bench", name="Bench"); db.session.add(ws); db.session.flush()
    c = Campaign(workspace_id=ws.id, slug="bench", name="Bench", kind="referral", status="live", locales=["en"])
    db.session.add(c); db.session.flush()
    cu = Customer(workspace_id=ws.id, email="a@example.com", email_display="a@example.com")
    db.session.add(cu); db.session.flush()
    p = Participation(campaign_id=c.id, customer_id=cu.id, referral_code="benchAbc", status="confirmed")
    db.session.add(p); db.session.commit()
    print(p.referral_code)
"""

COUNT = """
from referral import create_app
from referral.extensions import db
from referral.models import Click
from sqlalchemy import func, select
app = create_app()
with app.app_context():
    print(db.session.scalar(select(func.count()).select_from(Click)))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SECRET_KEY": "bench",
            "REFERRAL_ENV": "production",
            "SESSION_COOKIE_SECURE": "false",
            "DATABASE_URL": args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}",
        }
        code = _seed(env)
        results: dict[str, tuple[float, int]] = {}
        warm: dict[str, int] = {}
        for label, target in (("bare flask", "bench.bare_app:app"), ("referral", "wsgi:app")):
            port = _free_port()
            proc = _gunicorn(target, port, args.workers, env, f"/r/{code}")
            try:
                warm[label] = _wrk(f"http://127.0.0.1:{port}/r/{code}", 2, args.connections)[1]
                results[label] = _wrk(
                    f"http://127.0.0.1:{port}/r/{code}", args.seconds, args.connections
                )
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        stored = int(
            subprocess.run(
                [str(BIN / "python"), "-c", COUNT],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    bare_rps, _ = results["bare flask"]
    ours_rps, ours_total = results["referral"]
    print(f"bare flask redirect : {bare_rps:9.1f} req/s")
    print(f"referral /r/<code>  : {ours_rps:9.1f} req/s  (click logging on)")
    made = ours_total + warm["referral"] + 20  # + the readiness probes
    print(
        f"clicks stored       : {stored} of {made} requests made ({ours_total} measured + "
        f"{warm['referral']} warm-up + 20 probes){'' if stored >= made else '  CLICKS LOST'}"
    )
    print(f"ratio referral/bare : {ours_rps / bare_rps:.2f}  (goal >= 0.90)")


if __name__ == "__main__":
    main()
