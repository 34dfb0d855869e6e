"""Settings read from the environment."""

from __future__ import annotations

import pytest

from referral.config import from_environment


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
