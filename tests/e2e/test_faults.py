"""Faults for real: a PostgreSQL server of the test's own (never the shared one) is stopped
and started again under a stream of sign-ups over HTTP.

While it is away every answer is a 503 with ``Retry-After`` (never a 500); once it is back
the service recovers without a restart, and the client's retries with the same
``Idempotency-Key`` leave every person exactly once: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from referral import config as settings
from referral import create_app
from referral.extensions import db
from referral.models import Participation
from tests.factories import free_port, seed_live_campaign

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://root@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), *args]
        subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=60)  # noqa: S603

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the ``postgres`` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        reason = "PostgreSQL server binaries not installed (Debian package postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="referral-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    initdb = [str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "root"]
    subprocess.run(  # noqa: S603
        _as_postgres([*initdb, "--no-sync", "-E", "UTF8"]), check=True, capture_output=True
    )
    found = Cluster(folder, free_port())
    found.start()
    try:
        yield found
    finally:
        try:
            found.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_a_postgresql_restart_under_sign_ups_answers_503_then_loses_and_doubles_nothing(
    cluster: Cluster,
) -> None:
    app = create_app({**settings.test_config(cluster.url), "API_RATE_LIMIT": "off"})
    campaign_id, secret = seed_live_campaign(app, "stream")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/campaigns/{campaign_id}/participants"
    headers = {"Authorization": f"Bearer {secret}"}
    statuses: Counter[int] = Counter()
    retry_after: set[str] = set()

    def join(n: int) -> int:
        response = requests.post(
            url,
            json={"email": f"p{n}@example.com", "confirmed": True},
            headers={**headers, "Idempotency-Key": f"join-{n}"},
            timeout=30,
        )
        statuses[response.status_code] += 1
        if response.status_code == 503:
            retry_after.add(response.headers.get("Retry-After", ""))
        return response.status_code

    failed: list[int] = []
    try:
        for n in range(20):
            assert join(n) == 201
        cluster.stop()
        for n in range(20, 40):  # the database is away
            if join(n) != 201:
                failed.append(n)
        cluster.start()
        deadline = time.monotonic() + 30
        while failed and time.monotonic() < deadline:  # the client retries, same keys
            failed = [n for n in failed if join(n) not in (200, 201)]
            time.sleep(0.2)
        for n in range(40, 50):  # and the service goes on without a restart
            assert join(n) == 201
    finally:
        server.shutdown()
    assert failed == []
    assert statuses[500] == 0, statuses
    assert statuses[503] >= 20, statuses  # every request while it was away
    assert retry_after == {"5"}
    with app.app_context():
        emails = db.session.scalar(select(func.count()).select_from(Participation))
        assert emails == 50  # nothing lost, nothing duplicated
        db.session.remove()
        db.engine.dispose()
