"""Operator commands beyond set-up: mail delivery, reward approval, draw verification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from referral.domain import draws
from referral.extensions import db
from referral.models import LedgerEntry, OutboxMessage
from referral.models.base import utcnow
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.outbox import Mail
from referral.services.rules import add_rule
from tests.factories import Factory


def _record() -> dict:
    seed = draws.new_seed()
    entries = [draws.Entry(f"e{i}", 1 + i % 3) for i in range(12)]
    digest = draws.entries_digest(entries)
    result = draws.draw(seed, digest, entries, 2, 1)
    return draws.draw_record(
        "7",
        seed_hex=seed,
        entries=entries,
        beacon="",
        winners_count=2,
        alternates_count=1,
        result=result,
        drawn_at=datetime.now(UTC),
    )


def test_verify_draw_says_verified_for_an_honest_record(runner, tmp_path) -> None:
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(_record()))
    result = runner.invoke(args=["verify-draw", str(path)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output


def test_verify_draw_names_the_failed_check_for_tampered_winners(runner, tmp_path) -> None:
    record = _record()
    record["winners"] = list(reversed(record["winners"]))
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(record))
    result = runner.invoke(args=["verify-draw", str(path)])
    assert result.exit_code == 1
    assert "FAIL winners" in result.output and "NOT VERIFIED" in result.output


def test_verify_draw_refuses_a_file_that_is_not_json(runner, tmp_path) -> None:
    path = tmp_path / "draw.json"
    path.write_text("not json")
    result = runner.invoke(args=["verify-draw", str(path)])
    assert result.exit_code != 0
    assert "Not a JSON draw record" in result.output


def test_send_mail_delivers_queued_confirmations_to_the_log(runner, factory: Factory) -> None:
    campaign = factory.campaign(status="live")
    join_campaign(
        campaign, JoinRequest(email="a@example.com"), Visitor(), lambda p, c, t: Mail("Hi", t)
    )
    result = runner.invoke(args=["send-mail"])
    assert "1 message(s) handled." in result.output
    db.session.rollback()
    assert [m.status for m in db.session.query(OutboxMessage)] == ["logged"]


def test_approve_rewards_approves_only_what_is_past_its_hold(runner, factory: Factory) -> None:
    campaign = factory.campaign(status="live", hold_days=14)
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 5})
    advocate = join_campaign(
        campaign, JoinRequest(email="advocate@example.com", confirmed=True), Visitor()
    ).participation
    friend = JoinRequest(
        email="a@example.com", referral_code=advocate.referral_code, confirmed=True
    )
    join_campaign(campaign, friend, Visitor())
    result = runner.invoke(args=["approve-rewards"])
    assert "0 reward(s) approved." in result.output
    db.session.rollback()
    entry = db.session.query(LedgerEntry).one()
    entry.approve_after = datetime(2000, 1, 1, tzinfo=UTC)
    db.session.commit()
    result = runner.invoke(args=["approve-rewards"])
    assert "1 reward(s) approved." in result.output


def test_prune_forgets_old_answered_idempotency_keys_only(runner, factory: Factory) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from referral.extensions import db
    from referral.models import IdempotencyRecord
    from referral.models.base import utcnow
    from referral.services.idempotency import IN_PROGRESS

    workspace = factory.workspace()
    old = utcnow() - timedelta(days=8)
    for key, status, created in (
        ("old-done", 201, old),
        ("old-running", IN_PROGRESS, old),
        ("new-done", 201, utcnow()),
    ):
        db.session.add(
            IdempotencyRecord(
                workspace_id=workspace.id,
                key=key,
                request_hash="x" * 64,
                status_code=status,
                body=None,
                created_at=created,
            )
        )
    db.session.commit()
    result = runner.invoke(args=["prune", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "idempotency_records: 1 row(s) were deleted." in result.output
    db.session.expire_all()
    kept = sorted(db.session.scalars(select(IdempotencyRecord.key)))
    assert kept == ["new-done", "old-running"]


def test_prune_dry_run_says_what_would_go_and_deletes_nothing(runner, factory: Factory) -> None:
    workspace = factory.workspace()
    for status in ("sent", "queued"):
        db.session.add(
            OutboxMessage(
                workspace_id=workspace.id,
                kind="confirm",
                to_address="ann@example.com",
                subject="Hello",
                body_text="Hello",
                status=status,
                created_at=utcnow() - timedelta(days=120),
            )
        )
    db.session.commit()
    result = runner.invoke(args=["prune", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "outbox_messages: 1 row(s) would be deleted." in result.output
    db.session.expire_all()
    assert len(db.session.scalars(select(OutboxMessage.id)).all()) == 2
    result = runner.invoke(args=["prune"])
    assert "outbox_messages: 1 row(s) were deleted." in result.output
    assert "inbound_receipts: 0 row(s) were deleted." in result.output
    assert "Import progress of 0 finished import(s) cleared." in result.output
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.status)).all() == ["queued"]
