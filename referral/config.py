"""Configuration read from the environment (and an optional ``.env``)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from email.headerregistry import Address
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many

from referral import ratelimits
from referral.domain.depth import DEFAULT_CEILING, operator_ceiling

LOCALES = ("en", "de", "nl", "zh_Hans", "zh_Hant")


def _instance_secret(instance_path: str) -> str:
    """The secret key kept in the instance folder, created on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _whole(name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting, kept within ``low..high``; the default when unset or not a number."""
    raw = (os.environ.get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 9:
        return default
    return min(max(int(raw), low), high)


# Every rate limit an operator may set in the environment (``flask-limiter`` notation, e.g.
# ``10 per minute;60 per hour``); the defaults are in DEFAULTS.
RATE_LIMITS = (
    "LOGIN_RATE_LIMIT",
    "LOGIN_IP_RATE_LIMIT",
    "JOIN_RATE_LIMIT",
    "JOIN_CAMPAIGN_RATE_LIMIT",
    "CONFIRM_RATE_LIMIT",
    "PLAY_RATE_LIMIT",
    "PRIVACY_RATE_LIMIT",
    "PRIVACY_ADDRESS_RATE_LIMIT",
)


def rate_limit(name: str) -> str:
    """The limit ``name`` from the environment, else its default.

    A limit that does not parse stops the start: flask-limiter would otherwise skip it at
    every request, leaving the form it guards without any limit.

    :raise ValueError: when the variable is set to something that is not a limit.
    """
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return str(DEFAULTS[name])
    try:
        parse_many(raw)
    except ValueError as error:
        raise ValueError(f"{name}={raw!r} is not a rate limit such as '10 per minute'") from error
    return raw


# Days each growing table keeps its rows (docs/SCALING.md, "Tables that grow"): the default
# and the least a setting may say; 0 keeps them forever.
RETENTION = {
    "RETENTION_CLICKS_DAYS": (0, 1),
    "RETENTION_OUTBOX_DAYS": (90, 7),
    "RETENTION_WEBHOOKS_DAYS": (90, 7),
    "RETENTION_JOURNEY_LOG_DAYS": (0, 91),
    "RETENTION_AUDIT_DAYS": (0, 30),
    # A payment provider's receipts: Stripe resends an event for up to 3 days and lets it
    # be resent by hand for 30; Shopify retries for 48 hours. Kept past that, a delivery
    # sent again is still recognised as a duplicate.
    "RETENTION_INBOUND_DAYS": (90, 31),
}


def retention_days(name: str) -> int:
    """Days to keep the rows ``name`` is about, from the environment: 0 (or its default of
    0) keeps them forever; a number below the least allowed counts as the least (a
    journey's mail cap looks 90 days back, so its log is kept longer)."""
    default, least = RETENTION[name]
    days = _whole(name, default, 0, 36_500)
    return days and max(days, least)


def public_base_url() -> str:
    """The address people reach the service at: ``PUBLIC_BASE_URL``, else the host and port
    the server listens on (``HOST``, ``PORT``, as ``make run`` passes them), so the links
    and QR codes of a server started on another port lead to it. A server listening on every
    interface is reached at 127.0.0.1."""
    configured = (os.environ.get("PUBLIC_BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    host = (os.environ.get("HOST") or "").strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::"}:  # noqa: S104  (an address to link to, not one to bind)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host.strip('[]')}]"
    port = (os.environ.get("PORT") or "").strip()
    port = port if port.isdigit() and 0 < int(port) < 65_536 else "5000"
    return f"http://{host}:{port}"


def default_sender(base_url: str) -> str:
    """``referral@<host of the public address>``: mail then comes from the site it links to.
    An address without a domain name (an IP address, ``localhost``) gives
    ``referral@localhost``."""
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
        host = ""
    except ValueError:
        pass
    if not host or "." not in host:
        host = "localhost"
    return str(Address(username="referral", domain=host))


def login_cookies(*, secure: bool, production: bool) -> dict[str, object]:
    """The session and remember-me cookies: Secure, HttpOnly, SameSite=Lax (see DEFAULTS).

    In production they are ``__Host-`` cookies: the browser then accepts them only when
    Secure, for Path=/ and without a Domain, so no sibling subdomain (or a page served over
    plain HTTP on this one) can set or overwrite a marketer's login. A production server
    told not to use Secure cookies keeps the plain names, which browsers would otherwise
    refuse to store.
    """
    prefix = "__Host-" if production and secure else ""
    return {
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": f"{prefix}session",
        "REMEMBER_COOKIE_NAME": f"{prefix}remember_token",
        "SESSION_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_DOMAIN": None,
    }


def from_environment(instance_path: str) -> dict[str, object]:
    """Settings for a real run: every value can be overridden by an environment variable."""
    env = os.environ.get
    database_url = env("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'referral.sqlite'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    development = env("FLASK_DEBUG") == "1" or env("REFERRAL_ENV", "development") == "development"
    redis_url = env("REDIS_URL") or None
    base_url = public_base_url()
    secure_cookies = _bool("SESSION_COOKIE_SECURE", not development)
    return {
        "SECRET_KEY": env("SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PUBLIC_BASE_URL": base_url,
        "REDIS_URL": redis_url,
        # Counters every worker shares: Redis when there is one, else a file beside the data.
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI")
        or redis_url
        or ratelimits.storage_uri(instance_path),
        "REFERRAL_MAX_REWARD_DEPTH": operator_ceiling(
            env("REFERRAL_MAX_REWARD_DEPTH", str(DEFAULT_CEILING))
        ),
        "MAIL_URL": env("MAIL_URL") or "",
        "MAIL_FROM": env("MAIL_FROM") or default_sender(base_url),
        **login_cookies(secure=secure_cookies, production=not development),
        **{name: rate_limit(name) for name in RATE_LIMITS},
        "FORCE_HTTPS": _bool("FORCE_HTTPS", False),
        "REFERRAL_SPREAD_VIEW_MAX_NODES": _whole(
            "REFERRAL_SPREAD_VIEW_MAX_NODES", 5_000, 100, 50_000
        ),
        "DATABASE_STATEMENT_TIMEOUT_MS": _whole(
            "DATABASE_STATEMENT_TIMEOUT_MS", 30_000, 100, 3_600_000
        ),
        "HEALTH_SLOW_DATABASE_MS": _whole("HEALTH_SLOW_DATABASE_MS", 500, 1, 60_000),
        # A file of more rows is imported by the worker, not in the request (import_jobs).
        "IMPORT_INLINE_ROWS": _whole("IMPORT_INLINE_ROWS", 1_000, 0, 20_000),
        # How long an embed token shows a customer their own widget (services.embeds).
        "EMBED_TOKEN_SECONDS": _whole("EMBED_TOKEN_SECONDS", 600, 60, 3_600),
        **{name: retention_days(name) for name in RETENTION},
        "REFERRAL_ENV": "development" if development else "production",
    }


DEFAULTS: dict[str, object] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
    "WTF_CSRF_TIME_LIMIT": 60 * 60 * 12,
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "LANGUAGES": LOCALES,
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_ENABLED": True,
    # Redis (the shared counters) unreachable: each process counts in memory until it is
    # back, and a counter that still fails lets the request through; never a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Refused sign-ins per client address and e-mail, and per client address alone.
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "LOGIN_IP_RATE_LIMIT": "30 per minute;200 per hour",
    # Join-form posts per client address and per campaign, confirmation links opened per
    # address, instant-win plays per address.
    "JOIN_RATE_LIMIT": "10 per minute;60 per hour",
    "JOIN_CAMPAIGN_RATE_LIMIT": "300 per minute",
    "CONFIRM_RATE_LIMIT": "30 per minute;300 per hour",
    "PLAY_RATE_LIMIT": "60 per minute",
    "PRIVACY_RATE_LIMIT": "10 per minute;30 per hour",
    "PRIVACY_ADDRESS_RATE_LIMIT": "3 per hour;10 per day",
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "JSON_SORT_KEYS": False,
    # /r/<code>: cache code lookups briefly and write clicks in batches (services.clicks).
    "CLICK_BUFFER": True,
    "CLICK_FLUSH_SECONDS": 0.25,
    "CODE_CACHE_SECONDS": 5.0,
    **{name: default for name, (default, _least) in RETENTION.items()},
    # After a commit that queued work, a thread of the process wakes the worker
    # (services.wakeups.Coalesced); off: the committing request enqueues the job itself.
    "WAKE_IN_BACKGROUND": True,
    # APIFlask: our error handlers decide the format per blueprint (problem+json under /api).
    "AUTO_404_RESPONSE": False,
}


def test_config(database_url: str | None = None) -> dict[str, object]:
    """Settings for the test suite: a fresh database, no real mail, fast hashing."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url or "sqlite://",
        "PUBLIC_BASE_URL": "http://localhost",
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REFERRAL_MAX_REWARD_DEPTH": DEFAULT_CEILING,
        "MAIL_URL": "",
        "MAIL_FROM": "referral@localhost",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "FORCE_HTTPS": False,
        "REFERRAL_ENV": "testing",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "CLICK_BUFFER": False,
        "CODE_CACHE_SECONDS": 0.0,
        "WAKE_IN_BACKGROUND": False,
    }
