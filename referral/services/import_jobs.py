"""The admin's import of a file, step by step: the upload is stored (``uploaded``), the
marketer maps its columns and looks at the first rows as they will be read, then starts
the import (``services.imports``), and every row's outcome is kept for the report.

**Small files in the request, large ones in the worker.** A file of up to
``IMPORT_INLINE_ROWS`` rows (1,000 by default: a second or two) is imported in the request
that starts it. A larger one is only ``queued``; once that commits the worker is woken
(``services.wakeups``), claims it (``running``) and imports it, telling
:func:`progress_of` how far it got after each chunk, so the page can show it.

**All or nothing.** The import and its ``done`` are one transaction: a run that fails
leaves nothing imported and the file ``failed``, ready to be started again; a worker that
dies mid-way leaves it ``running`` until :data:`LEASE` is over, when the next run takes it
again. Starting the same file twice is refused, and running it twice would add nobody (the
people in the campaign are skipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update

from referral.domain.errors import N_, Conflict, NotFound
from referral.domain.imports import (
    FIELDS,
    PREVIEW_ROWS,
    Row,
    Table,
    check_mapping,
    checked_basis,
    guess_mapping,
    read_rows,
    read_table,
)
from referral.extensions import db
from referral.models import Campaign, ParticipantImport
from referral.models.base import utcnow
from referral.services import audit, wakeups
from referral.services.confirmation import Composer
from referral.services.imports import ImportResult, Outcome, import_people, split_rows
from referral.services.joining import is_open
from referral.services.rows import affected_rows
from referral.services.scoping import get_owned
from referral.services.tx import atomic

log = logging.getLogger("referral.imports")
INLINE_ROWS = 1_000
LEASE = timedelta(minutes=15)
FILENAME_MAX = 200
Mapping = dict[str, int | None]

# Where the worker tells how far an import got (its transaction is not committed yet, so
# the database cannot say): the huey worker's storage, shared by every node and worker
# (``referral.tasks``); without one, this process's memory. An entry is only needed while
# its import runs: it is deleted when the import is over, done or failed, and ``referral
# prune`` deletes any that a worker which died left behind. So they never pile up.
_memory: dict[str, int] = {}
Store = tuple[Callable[[str, int], None], Callable[[str], int | None], Callable[[str], object]]
_store: list[Store] = [(_memory.__setitem__, _memory.get, lambda key: _memory.pop(key, None))]


def keep_progress_in(
    put: Callable[[str, int], None],
    get: Callable[[str], int | None],
    forget: Callable[[str], object],
) -> None:
    """Keep the progress of running imports with ``put``, read it with ``get`` and delete
    it with ``forget``."""
    _store[0] = (put, get, forget)


def _progress_key(import_id: int) -> str:
    return f"referral.import.{import_id}"


@atomic
def upload_file(
    campaign: Campaign, filename: str, data: bytes, marketer_id: int | None = None
) -> ParticipantImport:
    """Keep an uploaded file for the next steps, once it reads as a table, with the
    columns guessed from its header.

    :raise ValidationFailed: on ``file`` (see ``domain.imports.read_table``).
    """
    table = read_table(data)
    job = ParticipantImport(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        marketer_id=marketer_id,
        filename=(filename or "")[:FILENAME_MAX],
        data=data,
        rows=len(table.rows),
        mapping=guess_mapping(table.header),
    )
    db.session.add(job)
    db.session.flush()
    return job


def get_import(campaign: Campaign, import_id: int) -> ParticipantImport:
    """The import ``import_id`` of ``campaign``. :raise NotFound: any other id."""
    job = get_owned(ParticipantImport, import_id, campaign.workspace_id)
    if job.campaign_id != campaign.id:
        raise NotFound(N_("No such import."))
    return job


def recent_imports(campaign: Campaign, limit: int = 20) -> list[ParticipantImport]:
    """The campaign's latest imports, newest first."""
    return list(
        db.session.scalars(
            select(ParticipantImport)
            .where(ParticipantImport.campaign_id == campaign.id)
            .order_by(ParticipantImport.id.desc())
            .limit(limit)
        )
    )


def table_of(job: ParticipantImport) -> Table:
    """The uploaded file as a table. :raise NotFound: its file is gone (imported)."""
    if job.data is None:
        raise NotFound(N_("This file is imported already; upload it again to import it anew."))
    return read_table(job.data)


def mapping_of(job: ParticipantImport) -> Mapping:
    """The import's mapping, each field's column (None: not imported)."""
    return {name: job.mapping.get(name) for name in FIELDS}


def preview(job: ParticipantImport, mapping: Mapping) -> list[Row]:
    """The first rows as the import would read them with ``mapping``."""
    table = table_of(job)
    first = Table(
        table.header, table.rows[:PREVIEW_ROWS], table.delimiter, table.lines[:PREVIEW_ROWS]
    )
    return read_rows(first, mapping)


def startable(job: ParticipantImport) -> bool:
    """Whether the marketer can (still) map and start the import."""
    return job.status in ("uploaded", "failed") and job.data is not None


@atomic
def start_import(
    campaign: Campaign,
    job: ParticipantImport,
    mapping: Mapping,
    basis: str,
    *,
    confirmed: bool = False,
    compose: Composer | None = None,
    ip_hash: str | None = None,
) -> ParticipantImport:
    """Start importing ``job`` with ``mapping`` and the stated ``basis``: now when the file is
    small, else queued for the worker (see the module's docstring).

    :raise ValidationFailed: on ``email`` or ``mapping`` (the mapping), ``basis``.
    :raise Conflict: the import is started already, or the campaign is not open.
    """
    if not startable(job):
        raise Conflict(N_("This import is started already."))
    check_mapping(mapping, len(table_of(job).header))
    job.basis = checked_basis(basis)
    if not is_open(campaign):
        raise Conflict(N_("This campaign is not open for sign-ups."))
    job.mapping, job.confirmed, job.error = dict(mapping), confirmed, ""
    inline = int(current_app.config.get("IMPORT_INLINE_ROWS", INLINE_ROWS))
    if job.rows <= inline:
        _run(campaign, job, compose, ip_hash)
    else:
        job.status, job.started_at = "queued", None
        wakeups.due("imports")
    return job


def _report_line(outcome: Outcome) -> list[Any]:
    error = outcome.error
    problems: list[list[Any]] = []
    if error is not None:
        problems = [
            [name, message.template, dict(message.params)]
            for name, found in error.messages.items()
            for message in found
        ] or [["", error.template, dict(error.params)]]
    return [outcome.person.line, outcome.person.email, outcome.result, problems]


def _run(
    campaign: Campaign,
    job: ParticipantImport,
    compose: Composer | None,
    ip_hash: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import ``job`` and mark it ``done`` with its counts and report, in the caller's
    transaction; the file itself is not kept once imported."""
    people, rejected = split_rows(read_rows(table_of(job), mapping_of(job)))
    result = import_people(
        campaign,
        people,
        job.basis,
        confirmed=job.confirmed,
        source="csv",
        compose=compose,
        marketer_id=job.marketer_id,
        ip_hash=ip_hash,
        rejected=rejected,
        progress=progress,
    )
    job.status, job.finished_at, job.data = "done", utcnow(), None
    job.counts = result.counts
    job.report = [_report_line(outcome) for outcome in result.outcomes]
    return result


@atomic
def _claim() -> int | None:
    """The next queued import (or one whose worker's lease ran out), now ``running``."""
    now = utcnow()
    waiting = or_(
        ParticipantImport.status == "queued",
        and_(ParticipantImport.status == "running", ParticipantImport.started_at < now - LEASE),
    )
    found: int | None = db.session.scalar(
        select(ParticipantImport.id).where(waiting).order_by(ParticipantImport.id).limit(1)
    )
    if found is None:
        return None
    taken = db.session.execute(
        update(ParticipantImport)
        .where(ParticipantImport.id == found, waiting)
        .values(status="running", started_at=now)
    )
    return found if affected_rows(taken) else None  # another worker took it first


@atomic
def _run_claimed(import_id: int, compose: Composer | None) -> None:
    job = db.session.get(ParticipantImport, import_id)
    if job is None or job.status != "running":
        return
    campaign = db.session.get(Campaign, job.campaign_id)
    assert campaign is not None
    put = _store[0][0]
    _run(campaign, job, compose, progress=lambda done: put(_progress_key(import_id), done))


@atomic
def _failed(import_id: int, reason: str) -> None:
    db.session.execute(
        update(ParticipantImport)
        .where(ParticipantImport.id == import_id, ParticipantImport.status == "running")
        .values(status="failed", finished_at=utcnow(), error=reason[:500])
    )


def run_queued(compose: Composer | None = None) -> int:
    """Import every queued file, one after the other (the worker's job); how many were
    taken. A file that fails is marked ``failed`` with the reason, with nothing imported."""
    taken = 0
    while (import_id := _claim()) is not None:
        taken += 1
        try:
            _run_claimed(import_id, compose)
        except Exception as error:  # noqa: BLE001 (the marketer is told; the worker goes on)
            log.exception("import %s failed", import_id)
            _failed(import_id, getattr(error, "message", "") or type(error).__name__)
        finally:
            _forget(import_id)
    return taken


def _forget(import_id: int) -> None:
    """The import is over, either way: the database says how far it got from now on
    (``progress_of``). A storage that cannot delete now leaves it to ``referral prune``."""
    try:
        _store[0][2](_progress_key(import_id))
    except Exception:  # noqa: BLE001 (the import is done; its progress entry may wait)
        log.warning("could not delete the progress of import %s", import_id, exc_info=True)


def forget_finished_progress(*, dry_run: bool = False) -> int:
    """Delete the progress entries of every import that is over (``done`` or ``failed``),
    which a worker that died before it could delete its own left behind; how many imports
    are over (an entry already gone is no work). A dry run deletes nothing."""
    over = list(
        db.session.scalars(
            select(ParticipantImport.id).where(ParticipantImport.status.in_(("done", "failed")))
        )
    )
    db.session.rollback()
    if not dry_run:
        for import_id in over:
            _store[0][2](_progress_key(import_id))
    return len(over)


def progress_of(job: ParticipantImport) -> int:
    """How many of the file's rows are done: all once ``done``, what the worker last said
    while ``running``, else none."""
    if job.status == "done":
        return job.rows
    if job.status != "running":
        return 0
    return min(job.rows, int(_store[0][1](_progress_key(job.id)) or 0))


@atomic
def report_downloaded(job: ParticipantImport, marketer_id: int | None, ip_hash: str | None) -> None:
    """An export of the people of a file (their addresses) is audited, as every export."""
    audit.record(
        "participants.import_report",
        f"import:{job.id}",
        workspace_id=job.workspace_id,
        marketer_id=marketer_id,
        ip_hash=ip_hash,
        data={"campaign_id": job.campaign_id, "rows": len(job.report)},
    )
