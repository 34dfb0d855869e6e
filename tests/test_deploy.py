"""The scale-out files of the repository (docs/SCALING.md) hold together without Docker:
compose.yaml starts the shape it describes with official images, every node and consumer gets
the same settings, which are settings the app reads, and the load balancer hands the nodes
each visitor's address the way their gunicorn command expects it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILT = ("migrate", "app", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return found


def test_compose_starts_the_database_the_queue_the_migration_nodes_consumers_and_a_balancer(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "app", "worker", "nginx"}
    assert services["migrate"]["command"] == ["referral", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["command"][:2] == ["huey_consumer", "referral.tasks.huey"]
    for name in ("app", "worker"):
        assert services[name]["deploy"]["replicas"] >= 2
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["nginx"]["depends_on"]["app"] == {"condition": "service_healthy"}


def test_only_official_images_are_used(compose: dict[str, Any]) -> None:
    """Docker Hub's official images have no owner in their name (``nginx``, not ``x/nginx``)."""
    pulled = [s["image"] for s in compose["services"].values() if "build" not in s]
    bases = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert sorted(image.split(":")[0] for image in pulled) == ["nginx", "postgres", "redis"]
    assert [base.split(":")[0] for base in bases] == ["node", "python"]
    assert "python:3.11-slim" in bases
    assert all("/" not in image for image in pulled + bases)


def test_every_node_and_consumer_gets_the_same_settings_and_the_app_reads_each(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    environments = [services[name]["environment"] for name in BUILT]
    assert environments[0] == environments[1] == environments[2]
    shared = environments[0]
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI"} <= set(shared)
    assert {"PUBLIC_BASE_URL", "MAIL_URL"} <= set(shared)
    assert shared["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert shared["REDIS_URL"] == shared["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    read = (ROOT / "referral" / "config.py").read_text(encoding="utf-8")
    assert [name for name in shared if f'"{name}"' not in read] == []
    # The migration writes the instance's secret key when none is given; the nodes read it.
    assert {tuple(services[name]["volumes"]) for name in BUILT} == {("instance:/app/instance",)}


def test_the_balancer_passes_each_visitors_address_as_the_nodes_expect_it(
    compose: dict[str, Any],
) -> None:
    """nginx speaks the PROXY protocol to ``app``; gunicorn reads it, and keeps no connection
    alive (a kept-alive connection's later requests would reach the app without it)."""
    nginx = compose["services"]["nginx"]
    assert nginx["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]
    config = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"^\s*server app:8000\b", config, re.M)
    assert re.search(r"^\s*proxy_protocol on;", config, re.M)
    assert re.search(r"^\s*listen 8080;", config, re.M)
    assert nginx["ports"] == ["8080:8080"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    command = " ".join(re.findall(r'"([^"]+)"', dockerfile.partition("CMD")[2]))
    assert command.startswith("gunicorn ") and command.endswith(" wsgi:app")
    assert "--proxy-protocol" in command and "--keep-alive 0" in command


def test_the_wsgi_entry_point_builds_the_app_and_freezes_what_it_built(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": "k",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}",
        "HUEY_SQLITE": str(tmp_path / "huey.sqlite"),
    }
    env.pop("REDIS_URL", None)
    probe = "import gc, wsgi; print(type(wsgi.app).__name__, gc.get_freeze_count() > 10_000)"
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed probe)
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["APIFlask", "True"], done.stderr
