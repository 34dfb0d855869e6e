"""Idempotency keys of the API: the first answer to a POST, replayed for its repeats.

A request with a key first *claims* it: a row in ``idempotency_records``, unique per
(workspace, key), committed before the work starts. The database decides which of two
racing requests owns a key; the other waits for the owner's answer and replays it. The
owner stores its answer when it succeeds, or releases the key when it fails, so that a
request that changed nothing can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from referral.domain.errors import N_, Conflict
from referral.extensions import db
from referral.models import IdempotencyRecord
from referral.models.base import utcnow
from referral.services.rows import affected_rows
from referral.services.tx import retry_on_contention

IN_PROGRESS = 0
KEY_MAX = 255
# How long a repeat waits for the first request's answer before it gives up with a 409.
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.05
# A claim this old without an answer was left by a crashed worker: it may be taken over.
# A claim whose worker runs on this machine and is gone is taken over at once (_abandoned);
# this is the bound for a worker on another machine (longer than any request may run).
STALE_AFTER = timedelta(minutes=2)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _abandoned(owner: str | None) -> bool:
    """The claim's worker ran on this machine and has died (a killed gunicorn worker)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


@dataclass(frozen=True)
class Stored:
    """The first answer to a request, to be replayed as it was."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query and body.

    A JSON body is compared by its meaning (key order and spacing do not matter); any other
    body by its bytes.
    """
    try:
        canonical = json.dumps(
            json.loads(body.decode("utf-8")), sort_keys=True, separators=(",", ":")
        ).encode()
    except (UnicodeDecodeError, ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256(f"{method} {path}?".encode())
    digest.update(query + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


def _find(workspace_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id, IdempotencyRecord.key == key
        )
    )


def _insert(workspace_id: int, key: str, request_hash: str) -> int | None:
    """The id of a new claim, or None when another request holds the key already."""
    record = IdempotencyRecord(
        workspace_id=workspace_id,
        key=key,
        request_hash=request_hash,
        status_code=IN_PROGRESS,
        owner=this_process(),
    )
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return record.id


def _take_over_stale(claim_id: int) -> None:
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.id == claim_id, IdempotencyRecord.status_code == IN_PROGRESS
        )
    )
    db.session.commit()


def _stored(record: IdempotencyRecord) -> Stored:
    envelope = record.body if isinstance(record.body, dict) else {}
    return Stored(record.status_code, envelope.get("json"), dict(envelope.get("headers") or {}))


@retry_on_contention
def claim(workspace_id: int, key: str, request_hash: str) -> int | Stored:
    """Claim ``key`` for a request: the id of the claim (go ahead, then :func:`complete` or
    :func:`release` it), or the stored answer of the earlier request with this key.

    A repeat that arrives while the first request is still running waits for its answer.

    :raise Conflict: the key was used for a different request, or the first request is still
        running after :data:`WAIT_SECONDS`.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = _find(workspace_id, key)
        if found is None:
            claimed = _insert(workspace_id, key, request_hash)
            if claimed is not None:
                return claimed
            continue
        ident, started, owner = found.id, found.created_at, found.owner
        same, answer = found.request_hash == request_hash, None
        if found.status_code != IN_PROGRESS:
            answer = _stored(found)
        db.session.rollback()  # end the snapshot: the next look sees the owner's commit
        if not same:
            raise Conflict(
                N_(
                    "This Idempotency-Key was already used for a different request; use a new "
                    "key for a new request."
                )
            )
        if answer is not None:
            return answer
        if _abandoned(owner) or started < utcnow() - STALE_AFTER:
            _take_over_stale(ident)
            continue
        if time.monotonic() > deadline:
            raise Conflict(
                N_("A request with this Idempotency-Key is still in progress; retry shortly.")
            )
        time.sleep(POLL_SECONDS)


@retry_on_contention
def complete(claim_id: int, status: int, body: Any, headers: dict[str, str]) -> None:
    """Store the answer of the request that holds the claim."""
    db.session.rollback()
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim_id)
        .values(status_code=status, body={"json": body, "headers": headers})
    )
    db.session.commit()


@retry_on_contention
def release(claim_id: int) -> None:
    """Give the key up after a failed request (it changed nothing), so it can be retried."""
    db.session.rollback()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.id == claim_id, IdempotencyRecord.status_code == IN_PROGRESS
        )
    )
    db.session.commit()


def prune(older_than: timedelta, now: datetime | None = None) -> int:
    """Forget answered keys older than ``older_than`` (a replay after that runs anew).

    Claims still in progress are kept whatever their age: ``claim`` takes stale ones over.
    Returns how many records were removed.
    """
    result = db.session.execute(
        delete(IdempotencyRecord).where(forgettable((now or utcnow()) - older_than))
    )
    db.session.commit()
    return affected_rows(result)


def forgettable(cutoff: datetime) -> ColumnElement[bool]:
    """The records ``prune`` forgets: answered before ``cutoff``."""
    return and_(IdempotencyRecord.created_at < cutoff, IdempotencyRecord.status_code != IN_PROGRESS)
