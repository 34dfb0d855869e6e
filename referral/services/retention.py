"""Keeping the tables that grow in bounds (docs/SCALING.md, "Tables that grow").

:func:`prune` is the daily maintenance (``referral prune``, and the worker's daily job). On
PostgreSQL it creates each partitioned table's partitions for this month and the next
``MONTHS_AHEAD`` before any row needs them, and drops the months that lie wholly beyond
their retention; everywhere it deletes, in batches of ``BATCH`` rows with a commit after
each (so no batch holds locks for long), the rows of the growing tables that are past
their retention and no longer needed. Mail still queued, sending or being retried and
webhook deliveries still pending are never deleted, whatever their age; events, ledger
lines, participations and draws are not touched at all. The progress entries that imports
left in the worker's storage are let go once the import is over (a worker that died before
it could say so leaves one behind).

A dry run reports the same work and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Table, and_, column, delete, func, select, table, text

from referral.extensions import db
from referral.models import (
    AuditEntry,
    Click,
    IdempotencyRecord,
    InboundReceipt,
    OutboxMessage,
    WebhookDelivery,
)
from referral.models import partitions as parts
from referral.models.base import utcnow
from referral.models.journey import JourneyStepLog
from referral.services import counters, idempotency, import_jobs
from referral.services.rows import affected_rows

MONTHS_AHEAD = 2
BATCH = 1000
# Partition work waits this long for a lock, rather than queue the clicks behind it.
LOCK_TIMEOUT = "5s"
# Mail that is done with: sent (or only logged, without MAIL_URL), or given up on.
FINISHED_MAIL = ("sent", "logged", "undeliverable")
FINISHED_DELIVERIES = ("delivered", "failed")


@dataclass
class Pruned:
    """What :func:`prune` did (or, in a dry run, would do)."""

    dry_run: bool
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    # Finished imports whose progress entry in the worker's storage was let go.
    forgotten: int = 0


@dataclass(frozen=True)
class Rule:
    """The rows of ``table`` that may go once older than the setting ``setting`` says."""

    table: Table
    setting: str
    expired: Callable[[datetime], ColumnElement[bool]]


def _table(model: Any) -> Table:
    found: Table = model.__table__
    return found


RULES = (
    Rule(_table(Click), "RETENTION_CLICKS_DAYS", lambda cutoff: Click.created_at < cutoff),
    Rule(
        _table(OutboxMessage),
        "RETENTION_OUTBOX_DAYS",
        lambda cutoff: and_(
            OutboxMessage.created_at < cutoff, OutboxMessage.status.in_(FINISHED_MAIL)
        ),
    ),
    Rule(
        _table(WebhookDelivery),
        "RETENTION_WEBHOOKS_DAYS",
        lambda cutoff: and_(
            WebhookDelivery.created_at < cutoff, WebhookDelivery.status.in_(FINISHED_DELIVERIES)
        ),
    ),
    Rule(
        _table(JourneyStepLog),
        "RETENTION_JOURNEY_LOG_DAYS",
        lambda cutoff: JourneyStepLog.at < cutoff,
    ),
    Rule(_table(AuditEntry), "RETENTION_AUDIT_DAYS", lambda cutoff: AuditEntry.created_at < cutoff),
    # What a receipt did stays on the timeline (its event); the receipt only recognises a
    # delivery sent again, which providers do within days (config.RETENTION).
    Rule(
        _table(InboundReceipt),
        "RETENTION_INBOUND_DAYS",
        lambda cutoff: InboundReceipt.created_at < cutoff,
    ),
)


def prune(
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    idempotency_days: int = 7,
    batch: int = BATCH,
) -> Pruned:
    """The months ahead created, the old months dropped, the expired rows deleted.

    Each table keeps its rows for the days its setting says (0: forever). A partitioned
    table loses whole months only, so a row lives until its month is entirely past the
    retention (up to a month longer); rows that landed in its default partition are
    deleted one batch at a time. API idempotency keys go after ``idempotency_days``.
    """
    now = now or utcnow()
    done = Pruned(dry_run=dry_run)
    partitioned = _partitioned_here()
    if partitioned:
        _partition_work(partitioned, now, done)
    for rule in RULES:
        days = int(current_app.config.get(rule.setting) or 0)
        if days:
            cutoff = now - timedelta(days=days)
            key = partitioned.get(rule.table.name)
            done.deleted[rule.table.name] = _delete_expired(rule, key, cutoff, dry_run, batch)
    cutoff = now - timedelta(days=idempotency_days)
    done.deleted[IdempotencyRecord.__tablename__] = _delete_batches(
        _table(IdempotencyRecord), idempotency.forgettable(cutoff), dry_run, batch
    )
    if not dry_run and _clicks_went(done):
        counters.reconcile()  # the click counts follow the clicks that are kept
    done.forgotten = import_jobs.forget_finished_progress(dry_run=dry_run)
    return done


def _clicks_went(done: Pruned) -> bool:
    name = Click.__tablename__
    dropped = any(parts.partition_month(name, partition) for partition in done.dropped)
    return dropped or bool(done.deleted.get(name))


def _partitioned_here() -> dict[str, str]:
    """The tables that are partitioned in this database, with their partition keys: none on
    SQLite, nor on a PostgreSQL database not yet migrated to partitions."""
    if db.session.get_bind().dialect.name != "postgresql" or not parts.PARTITIONED:
        return {}
    found = db.session.scalars(
        text("SELECT relname FROM pg_class WHERE relkind = 'p' AND relname = ANY(:names)"),
        {"names": list(parts.PARTITIONED)},
    )
    return {str(name): parts.PARTITIONED[str(name)] for name in found}


def _partition_work(partitioned: dict[str, str], now: datetime, done: Pruned) -> None:
    """Create the months ahead and drop the expired months of every partitioned table, in
    one transaction that one runner at a time holds (two at once would both create)."""
    if not done.dry_run:
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('referral.retention'))"))
        db.session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    for name, key in sorted(partitioned.items()):
        existing = _partitions_of(name)
        done.created += _create_ahead(name, key, existing, now, done.dry_run)
        days = _days_for(name)
        if days:
            done.dropped += _drop_before(name, existing, now - timedelta(days=days), done.dry_run)
    if done.dry_run:
        db.session.rollback()
    else:
        db.session.commit()


def _days_for(name: str) -> int:
    for rule in RULES:
        if rule.table.name == name:
            return int(current_app.config.get(rule.setting) or 0)
    return 0


def _partitions_of(name: str) -> set[str]:
    rows = db.session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": name},
    )
    return {str(relname) for (relname,) in rows}


def _create_ahead(
    name: str, key: str, existing: set[str], now: datetime, dry_run: bool
) -> list[str]:
    """This month's partition and the next ``MONTHS_AHEAD`` ones that are missing.

    Rows that already landed in the default partition for such a month move into it (a
    new range can only be attached once the default partition holds none of its rows).
    """
    created = []
    start = parts.month_start(now)
    has_default = parts.default_partition_name(name) in existing
    for offset in range(MONTHS_AHEAD + 1):
        month = parts.add_months(start, offset)
        partition = parts.partition_name(name, month)
        if partition in existing:
            continue
        created.append(partition)
        if dry_run:
            continue
        end = parts.add_months(month, 1)
        bounds = f"FOR VALUES FROM ('{month.isoformat()}') TO ('{end.isoformat()}')"
        if not has_default:
            db.session.execute(text(f'CREATE TABLE "{partition}" PARTITION OF "{name}" {bounds}'))
            continue
        _move_from_default(name, key, partition, (month, end))
        db.session.execute(text(f'ALTER TABLE "{name}" ATTACH PARTITION "{partition}" {bounds}'))
    return created


def _move_from_default(name: str, key: str, partition: str, bounds: tuple[datetime, ...]) -> None:
    """A new table shaped like ``name``, holding the rows of ``name``'s default partition
    that fall within ``bounds`` (taken out of it), ready to be attached."""
    like = "INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    db.session.execute(text(f'CREATE TABLE "{partition}" (LIKE "{name}" {like})'))
    default = parts.default_partition_name(name)
    # Every name here is a table's or a column's from the models, never input.
    within = f'"{key}" >= :start AND "{key}" < :end'
    taken = f'DELETE FROM "{default}" WHERE {within} RETURNING *'  # noqa: S608
    moved = f'WITH moved AS ({taken}) INSERT INTO "{partition}" SELECT * FROM moved'  # noqa: S608
    db.session.execute(text(moved), {"start": bounds[0], "end": bounds[1]})


def _drop_before(name: str, existing: set[str], cutoff: datetime, dry_run: bool) -> list[str]:
    """The monthly partitions whose every row is older than ``cutoff``, oldest first."""
    expired = []
    for partition in existing:
        month = parts.partition_month(name, partition)
        if month is not None and parts.add_months(month, 1) <= cutoff:
            expired.append((month, partition))
    dropped = [partition for _month, partition in sorted(expired)]
    if not dry_run:
        for partition in dropped:
            db.session.execute(text(f'DROP TABLE "{partition}"'))
    return dropped


def _delete_expired(
    rule: Rule, key: str | None, cutoff: datetime, dry_run: bool, batch: int
) -> int:
    """Delete ``rule``'s expired rows; of a table partitioned on ``key`` only those in its
    default partition, the months going whole."""
    if key is None:
        return _delete_batches(rule.table, rule.expired(cutoff), dry_run, batch)
    default = table(parts.default_partition_name(rule.table.name), column("id"), column(key))
    return _delete_batches(default, default.c[key] < cutoff, dry_run, batch)


def _delete_batches(target: Any, where: ColumnElement[bool], dry_run: bool, batch: int) -> int:
    """Delete the rows of ``target`` that ``where`` selects, ``batch`` at a time in id
    order, committing after each; in a dry run, count them."""
    if dry_run:
        found = db.session.scalar(select(func.count()).select_from(target).where(where))
        db.session.rollback()
        return int(found or 0)
    ids = select(target.c.id).where(where).order_by(target.c.id).limit(batch)
    total = 0
    while True:
        deleted = affected_rows(db.session.execute(delete(target).where(target.c.id.in_(ids))))
        db.session.commit()
        total += deleted
        if deleted < batch:
            return total
