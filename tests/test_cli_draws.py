"""``referral draw`` and ``referral verify-draw`` on a real lottery's published record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from referral.extensions import db
from referral.models import Campaign, Draw
from referral.services import draws
from referral.services.campaigns import close_campaign, publish_campaign
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory


@pytest.fixture
def closed(factory: Factory) -> Campaign:
    campaign = publish_campaign(factory.campaign(kind="lottery"))
    for n in range(5):
        join_campaign(campaign, JoinRequest(email=f"p{n}@example.org", confirmed=True), Visitor())
    return close_campaign(campaign)


def test_draw_command_draws_once(runner: Any, closed: Campaign) -> None:
    result = runner.invoke(args=["draw", str(closed.id), "--winners", "2", "--alternates", "1"])
    assert result.exit_code == 0, result.output
    draw = db.session.query(Draw).one()
    assert f"Draw {draw.id}" in result.output
    assert ", ".join(draw.record["winners"]) in result.output
    again = runner.invoke(args=["draw", str(closed.id), "--winners", "2"])
    assert again.exit_code != 0 and "runs once" in again.output
    assert db.session.query(Draw).count() == 1


def test_draw_command_refuses_an_unknown_campaign(runner: Any) -> None:
    result = runner.invoke(args=["draw", "999", "--winners", "1"])
    assert result.exit_code != 0 and "No campaign 999" in result.output


def _published(closed: Campaign, tmp_path: Path, change: Any = None) -> Path:
    record = draws.published_record(draws.run_draw(closed, 2, 2))
    if change:
        change(record)
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(record))
    return path


def test_invariant_4_fair_draws_verify_draw_accepts_the_published_record(
    runner: Any, closed: Campaign, tmp_path: Path
) -> None:
    result = runner.invoke(args=["verify-draw", str(_published(closed, tmp_path))])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output


def _flip(hex_text: str) -> str:
    return ("0" if hex_text[0] != "0" else "1") + hex_text[1:]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        (lambda r: r.update(seed=_flip(r["seed"])), "FAIL commitment"),
        (lambda r: r["entries"][0].update(weight=r["entries"][0]["weight"] + 1), "FAIL entries"),
        (lambda r: r["entries"].pop(), "FAIL entries_digest"),
        (lambda r: r.update(winners=list(reversed(r["winners"]))), "FAIL winners"),
        (lambda r: r.update(alternates=r["alternates"][:1]), "FAIL alternates"),
    ],
    ids=["seed", "weight", "entry removed", "winners swapped", "alternate dropped"],
)
def test_verify_draw_detects_tampering(
    runner: Any, closed: Campaign, tmp_path: Path, change: Any, failed: str
) -> None:
    result = runner.invoke(args=["verify-draw", str(_published(closed, tmp_path, change))])
    assert result.exit_code == 1
    assert failed in result.output and "NOT VERIFIED" in result.output
