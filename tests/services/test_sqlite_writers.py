"""Several writers on the embedded database: none is refused with "database is locked".

SQLite has one write lock. A transaction that read and then writes, while another process
committed in between, cannot upgrade its outdated snapshot and fails at once; the engine
tuning (``referral.extensions.tune_sqlite``) turns the first write into ``BEGIN IMMEDIATE``
so it waits for the lock instead. On PostgreSQL the same code paths must hold as well.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select, text, update

from referral.extensions import db
from referral.models import AuditEntry, Marketer
from referral.services import audit
from tests.concurrency import race
from tests.factories import Factory


def test_a_transaction_that_read_before_another_commit_can_still_write(app: Flask) -> None:
    factory = Factory()
    marketer, _ = factory.marketer()
    with db.engine.connect() as reader, db.engine.connect() as other:
        reader.execute(select(Marketer.id)).all()  # a snapshot from before the other's commit
        other.execute(update(Marketer).values(name="Other"))
        other.commit()
        reader.execute(update(Marketer).values(last_login_at=func.current_timestamp()))
        reader.commit()
    db.session.rollback()
    assert db.session.get(Marketer, marketer.id).last_login_at is not None


def test_twelve_sign_ins_at_once_all_record_their_time(app: Flask) -> None:
    factory = Factory()
    workspace = factory.workspace()
    ids = [factory.marketer(workspace=workspace)[0].id for _ in range(12)]

    def sign_in(i: int) -> None:  # what a sign-in does: read the account, then write to it
        marketer = db.session.get(Marketer, ids[i])
        db.session.execute(text("SELECT count(*) FROM marketers")).scalar()
        marketer.last_login_at = func.current_timestamp()
        db.session.commit()

    assert race(app, 12, sign_in) == []
    db.session.rollback()
    stamped = db.session.scalar(
        select(func.count()).select_from(Marketer).where(Marketer.last_login_at.is_not(None))
    )
    assert stamped == 12


def test_twelve_exports_at_once_each_leave_their_audit_row(app: Flask) -> None:
    factory = Factory()
    workspace_id = factory.workspace().id
    db.session.commit()

    def export(i: int) -> None:  # read the rows to export, then write the audit row
        db.session.execute(select(func.count()).select_from(AuditEntry)).scalar()
        audit.record("export.csv", f"campaign:{i}", workspace_id=workspace_id)
        db.session.commit()

    assert race(app, 12, export) == []
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 12
