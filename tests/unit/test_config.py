"""Settings read from the environment."""

from __future__ import annotations

import pytest

from referral import config, create_app
from referral.config import from_environment
from referral.extensions import db
from tests.conftest import Browser
from tests.factories import Factory


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 5_000),
        ("12000", 12_000),
        ("5", 100),
        ("999999", 50_000),
        ("lots", 5_000),
        ("", 5_000),
    ],
)
def test_the_spread_view_threshold_comes_from_the_environment_within_bounds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, raw: str | None, expected: int
) -> None:
    monkeypatch.setenv("SECRET_KEY", "x")
    if raw is None:
        monkeypatch.delenv("REFERRAL_SPREAD_VIEW_MAX_NODES", raising=False)
    else:
        monkeypatch.setenv("REFERRAL_SPREAD_VIEW_MAX_NODES", raw)
    settings = from_environment(str(tmp_path))
    assert settings["REFERRAL_SPREAD_VIEW_MAX_NODES"] == expected


def test_postgres_urls_are_given_the_psycopg_driver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://u@h/db"
    )


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: object, **env: str) -> dict[str, object]:
    for name in ("REFERRAL_ENV", "FLASK_DEBUG", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return from_environment(str(tmp_path))


def test_production_login_cookies_are_host_prefixed_secure_for_the_whole_site(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """Can a sibling subdomain or a plain-http page plant a marketer's login cookie in
    production? Not with ``__Host-`` names: browsers take those only Secure, Path=/ and
    without a Domain."""
    settings = _settings(monkeypatch, tmp_path, REFERRAL_ENV="production")
    assert settings["REFERRAL_ENV"] == "production"
    assert settings["SESSION_COOKIE_NAME"] == "__Host-session"
    assert settings["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_PATH"] == settings["REMEMBER_COOKIE_PATH"] == "/"
    assert settings["SESSION_COOKIE_DOMAIN"] is None
    assert settings["REMEMBER_COOKIE_DOMAIN"] is None


def test_a_production_login_cookie_is_sent_as_a_host_cookie(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    settings = _settings(monkeypatch, tmp_path, REFERRAL_ENV="production")
    cookies = {k: v for k, v in settings.items() if "COOKIE" in k}
    app = create_app({**config.test_config(f"sqlite:///{tmp_path}/cookies.sqlite"), **cookies})
    with app.app_context():
        db.create_all()
        marketer, _ = Factory().marketer()
        client = app.test_client()
        token = Browser(client).token("/login")
        data = {"email": marketer.email, "password": Factory.PASSWORD, "remember": "y"}
        response = client.post("/login", data={**data, "csrf_token": token})
        db.session.remove()
    assert response.status_code == 302
    sent = response.headers.getlist("Set-Cookie")
    names = sorted(c.split("=", 1)[0] for c in sent)
    assert names == ["__Host-remember_token", "__Host-session"]
    for cookie in sent:
        parts = [p.strip().lower() for p in cookie.split(";")]
        assert "secure" in parts and "path=/" in parts and "httponly" in parts, cookie
        assert not any(p.startswith("domain=") for p in parts), cookie


def test_development_keeps_plain_cookie_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    settings = _settings(monkeypatch, tmp_path)
    assert settings["REFERRAL_ENV"] == "development"
    assert (settings["SESSION_COOKIE_NAME"], settings["REMEMBER_COOKIE_NAME"]) == (
        "session",
        "remember_token",
    )
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_production_without_secure_cookies_keeps_names_browsers_would_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    settings = _settings(
        monkeypatch, tmp_path, REFERRAL_ENV="production", SESSION_COOKIE_SECURE="0"
    )
    assert settings["SESSION_COOKIE_NAME"] == "session"
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_the_login_limits_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    defaults = _settings(monkeypatch, tmp_path)
    assert defaults["LOGIN_IP_RATE_LIMIT"] == "30 per minute;200 per hour"
    assert defaults["LOGIN_RATE_LIMIT"] == "10 per minute;50 per hour"
    tuned = _settings(monkeypatch, tmp_path, LOGIN_IP_RATE_LIMIT="100 per minute")
    assert tuned["LOGIN_IP_RATE_LIMIT"] == "100 per minute"


def test_the_sign_up_confirmation_and_play_limits_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    for name in config.RATE_LIMITS:
        monkeypatch.delenv(name, raising=False)
    defaults = _settings(monkeypatch, tmp_path)
    assert defaults["JOIN_RATE_LIMIT"] == "10 per minute;60 per hour"
    assert defaults["JOIN_CAMPAIGN_RATE_LIMIT"] == "300 per minute"
    assert defaults["CONFIRM_RATE_LIMIT"] == "30 per minute;300 per hour"
    assert defaults["PLAY_RATE_LIMIT"] == "60 per minute"
    assert defaults["PRIVACY_RATE_LIMIT"] == "10 per minute;30 per hour"
    assert defaults["PRIVACY_ADDRESS_RATE_LIMIT"] == "3 per hour;10 per day"
    tuned = _settings(
        monkeypatch,
        tmp_path,
        JOIN_RATE_LIMIT="100000 per minute",
        JOIN_CAMPAIGN_RATE_LIMIT="5000 per second",
        CONFIRM_RATE_LIMIT=" 7 per hour ",
    )
    assert tuned["JOIN_RATE_LIMIT"] == "100000 per minute"
    assert tuned["JOIN_CAMPAIGN_RATE_LIMIT"] == "5000 per second"
    assert tuned["CONFIRM_RATE_LIMIT"] == "7 per hour"
    assert tuned["PLAY_RATE_LIMIT"] == "60 per minute"


@pytest.mark.parametrize("name", ["JOIN_RATE_LIMIT", "LOGIN_RATE_LIMIT", "CONFIRM_RATE_LIMIT"])
def test_a_rate_limit_that_does_not_parse_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, name: str
) -> None:
    """Would a typo leave the form without any limit? No: the start fails, naming it."""
    with pytest.raises(ValueError, match=name):
        _settings(monkeypatch, tmp_path, **{name: "lots"})


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("RETENTION_CLICKS_DAYS", None, 0),
        ("RETENTION_CLICKS_DAYS", "400", 400),
        ("RETENTION_OUTBOX_DAYS", None, 90),
        ("RETENTION_OUTBOX_DAYS", "0", 0),
        ("RETENTION_OUTBOX_DAYS", "2", 7),
        ("RETENTION_WEBHOOKS_DAYS", "soon", 90),
        ("RETENTION_JOURNEY_LOG_DAYS", "30", 91),
        ("RETENTION_AUDIT_DAYS", None, 0),
        ("RETENTION_AUDIT_DAYS", "730", 730),
        ("RETENTION_INBOUND_DAYS", None, 90),
        ("RETENTION_INBOUND_DAYS", "7", 31),
        ("RETENTION_INBOUND_DAYS", "0", 0),
    ],
)
def test_retention_days_come_from_the_environment_zero_keeping_forever(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, name: str, raw: str | None, expected: int
) -> None:
    monkeypatch.setenv("SECRET_KEY", "x")
    if raw is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, raw)
    assert from_environment(str(tmp_path))[name] == expected


def test_no_connection_is_pinged_before_every_use(app: object) -> None:
    """An SQLite file's connection cannot go stale and is never tested; a PostgreSQL one is
    tested only after it sat idle (extensions.ping_after_idle, tests/services/test_pool.py),
    not with a round trip before every transaction."""
    engine = db.engine
    assert engine.pool._pre_ping is False
    with engine.connect() as connection:  # the setting leaves the connection usable
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
