"""What ``/healthz`` reports: ``ok``, ``degraded`` (working, but a dependency is slow or its
backlog grows) or ``down`` (the database cannot be reached), each with its reasons."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from referral.extensions import db, limiter
from referral.models import OutboxMessage
from referral.models.base import utcnow

SLOW_DATABASE_MS = 500
MAIL_BACKLOG_AGE = timedelta(minutes=15)


@dataclass
class Health:
    status: str = "ok"
    reasons: list[str] = field(default_factory=list)
    database_ms: float | None = None

    def degrade(self, reason: str) -> None:
        self.reasons.append(reason)
        if self.status == "ok":
            self.status = "degraded"


def check(slow_ms: float = SLOW_DATABASE_MS) -> Health:
    health = Health()
    started = time.perf_counter()
    try:
        db.session.execute(select(1))
    except SQLAlchemyError as error:
        db.session.rollback()
        health.status = "down"
        health.reasons.append(f"database unreachable ({error.__class__.__name__})")
        return health
    health.database_ms = round((time.perf_counter() - started) * 1000, 1)
    if health.database_ms > slow_ms:
        health.degrade(f"database slow ({health.database_ms:.0f} ms)")
    stale = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("queued", "failed")),
            OutboxMessage.created_at < utcnow() - MAIL_BACKLOG_AGE,
        )
    )
    if stale:
        health.degrade(f"mail backlog ({stale} messages waiting over 15 minutes)")
    try:
        storage_ok = limiter.storage.check()
    except Exception:  # noqa: BLE001 (any failure of the limiter's storage means "not ok")
        storage_ok = False
    if not storage_ok:
        health.degrade("rate-limit storage unreachable")
    db.session.rollback()
    return health
