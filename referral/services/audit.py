"""The audit log: who did what, to what, when and with which outcome.

Review decisions, exports and erasures are recorded inside the transaction that makes them
(:func:`record`, the caller commits). Security events — sign-ins, throttling, refused
access, API key use and revocation — are recorded by :func:`security_event` in a short
transaction of their own, so a refused request still leaves its trace.

Nothing secret or identifying goes in: values under keys that name a password, token,
secret, e-mail address or birth date are dropped, e-mail addresses are masked
(``a…@example.com``), and CR/LF (and other control characters) in any value are escaped so
one entry can never pose as two lines in a log file or an export.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from referral.extensions import db
from referral.models import AuditEntry
from referral.services.tx import retry_on_contention

log = logging.getLogger("referral.audit")

OUTCOMES = ("ok", "denied", "failed", "throttled")
_SECRET_KEYS = re.compile(r"password|passphrase|token|secret|birth|e-?mail|api_key", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_EMAIL = re.compile(r"([^\s@]{1,64})@([^\s@]{1,255})")
MAX_VALUE = 500


def neutralise(value: str) -> str:
    """``value`` on one line: control characters as visible escapes, at most 500 chars."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    text = text.replace("\\x0d", "\\r").replace("\\x0a", "\\n")
    return text[:MAX_VALUE]


def mask_email(address: str) -> str:
    """``a…@example.com``: enough to tell accounts apart in a log, not to mail anyone."""
    local, _, domain = address.strip().partition("@")
    if not domain:
        return "…"
    return f"{local[:1]}…@{domain.lower()}"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(_EMAIL.sub(lambda m: mask_email(m.group()), value))
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict):
        return {
            neutralise(str(k)): _clean(v)
            for k, v in value.items()
            if not _SECRET_KEYS.search(str(k))
        }
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value][:50]
    return neutralise(str(value))


def record(
    action: str,
    subject: str,
    *,
    workspace_id: int | None,
    marketer_id: int | None = None,
    actor: str = "",
    outcome: str = "ok",
    ip_hash: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry to the current transaction (the caller commits with its own work)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    entry = AuditEntry(
        workspace_id=workspace_id,
        marketer_id=marketer_id,
        actor=neutralise(actor or (f"marketer:{marketer_id}" if marketer_id else ""))[:120],
        action=neutralise(action)[:64],
        subject=_clean(subject)[:64],
        outcome=outcome,
        ip_hash=ip_hash,
        data=_clean(data or {}),
    )
    db.session.add(entry)
    log.info(
        "audit action=%s subject=%s outcome=%s actor=%s workspace=%s",
        entry.action,
        entry.subject,
        entry.outcome,
        entry.actor,
        workspace_id,
    )
    return entry


@retry_on_contention
def security_event(
    action: str,
    subject: str,
    *,
    workspace_id: int | None = None,
    marketer_id: int | None = None,
    actor: str = "",
    outcome: str = "ok",
    ip_hash: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record a security event and commit it at once, whatever the request does next.

    Anything the session holds uncommitted is rolled back first: a security event is
    written on the way to an answer, never in the middle of a use case.
    """
    db.session.rollback()
    record(
        action,
        subject,
        workspace_id=workspace_id,
        marketer_id=marketer_id,
        actor=actor,
        outcome=outcome,
        ip_hash=ip_hash,
        data=data,
    )
    db.session.commit()
