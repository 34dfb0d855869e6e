"""referral: a self-hosted service for interactive marketing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from dotenv import load_dotenv

from referral import config as settings
from referral.extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    ping_after_idle,
    tune_sqlite,
)
from referral.headers import init_app as init_headers
from referral.i18n import init_app as init_i18n
from referral.i18n import select_locale

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None) -> APIFlask:
    """Build the application: configure, register extensions, blueprints, errors, commands.

    ``config`` (tests) replaces the environment; with none, settings come from the
    environment and an optional ``.env``. The database is never migrated here.
    """
    load_dotenv()
    app = APIFlask(
        __name__,
        instance_relative_config=True,
        title="referral API",
        version="1",
        spec_path="/api/v1/openapi.json",
        docs_path=None,
        json_errors=False,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_mapping(config or settings.from_environment(app.instance_path))

    register_extensions(app)
    register_blueprints(app)
    register_worker(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: APIFlask) -> None:
    from referral import models  # noqa: F401  (the models must be known to Migrate)
    from referral.services import memo

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        # A file's connection never goes stale; the pre-ping's test query per checkout
        # (two per sign-up) would buy nothing. A server's is tested after it sat idle (below).
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Fail fast instead of piling up: a slow statement, a full pool or an unreachable
        # server becomes a 503 with Retry-After within seconds (referral.errors).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_timeout", 5)
        # Tested only after an idle second (extensions.ping_after_idle), not before each use.
        options["pool_pre_ping"] = False
        statement_ms = int(app.config.get("DATABASE_STATEMENT_TIMEOUT_MS", 30_000))
        options["connect_args"] = {
            "connect_timeout": 5,
            "options": f"-c statement_timeout={statement_ms}",
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    memo.listen()  # configuration rows read once per transaction
    with app.app_context():
        tune_sqlite(db.engine)
        ping_after_idle(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_i18n(app)
    init_headers(app)


def register_blueprints(app: APIFlask) -> None:
    from referral import admin, advocate, api, auth, public

    for module in (auth, public, advocate, admin, api):
        module.init_app(app)


def register_worker(app: APIFlask) -> None:
    """Commits that queued mail or made a journey step due wake the worker."""
    from referral import tasks

    tasks.init_app(app)


def register_error_handlers(app: APIFlask) -> None:
    from referral.errors import init_app

    init_app(app)


def register_commands(app: APIFlask) -> None:
    from referral.cli import init_app

    init_app(app)
