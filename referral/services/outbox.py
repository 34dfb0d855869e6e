"""Outgoing e-mail through the outbox: queued in the caller's transaction, delivered after."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import insert, or_, select, update

from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.base import utcnow
from referral.services import rows, subscriptions, wakeups
from referral.services.rows import affected_rows
from referral.services.tx import retry_on_contention

log = logging.getLogger("referral.mail")
# Waiting to be sent; "sending" is a claim (with a lease), then sent/logged, or undeliverable.
WAITING = ("queued", "failed")
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
RETRY_FOR = timedelta(days=1)
# Headers are folded only beyond RFC 5322's hard limit: a ``List-Unsubscribe`` address
# longer than 78 characters would otherwise be split into encoded words no client reads.
MAIL_POLICY = policy.default.clone(max_line_length=998)
# A claim this old was left by a worker that died mid-send: the message goes out again,
# with the same Message-ID.
SENDING_LEASE = timedelta(minutes=5)
# Refusals of one message; any other error means the server is unreachable or gone.
MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
)


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str = ""


def queue(
    workspace_id: int,
    to: str,
    kind: str,
    mail: Mail,
    customer_id: int | None = None,
    key: str | None = None,
) -> OutboxMessage:
    """Put a message in the outbox, written at once in the caller's transaction (no commit).

    ``key`` names a message that must exist once (``journey:<enrolment>:<step>:<visit>``):
    a second row with the same key fails on its unique index with ``IntegrityError``, so a
    caller that may meet one queues it inside a savepoint.
    """
    values = {
        "workspace_id": workspace_id,
        "customer_id": customer_id,
        "kind": kind,
        "to_address": to,
        "subject": mail.subject[:200],
        "body_text": mail.text,
        "body_html": mail.html,
        "dedupe_key": key,
    }
    message = rows.insert_row(OutboxMessage, values)
    wakeups.due("mail")
    return message


def queue_many(messages: Sequence[tuple[int, str, str, Mail, int | None]]) -> None:
    """:func:`queue` for many messages at once, each ``(workspace_id, to, kind, mail,
    customer_id)``, in one multi-row insert (no key: none of them is deduplicated)."""
    if not messages:
        return
    db.session.execute(
        insert(OutboxMessage),
        [
            {
                "workspace_id": workspace_id,
                "customer_id": customer_id,
                "kind": kind,
                "to_address": to,
                "subject": mail.subject[:200],
                "body_text": mail.text,
                "body_html": mail.html,
                "dedupe_key": None,
            }
            for workspace_id, to, kind, mail, customer_id in messages
        ],
    )
    wakeups.due("mail")


def message_id(message: OutboxMessage, sender: str) -> str:
    """The ``Message-ID`` of an outbox row: the same on every attempt, so a message sent
    twice (a worker killed after the server accepted it) is recognisable as one."""
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    return f"<outbox.{message.id}.{message.workspace_id}@{domain}>"


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The e-mail of an outbox row, with a ``Date`` and its stable ``Message-ID``.

    A journey mail (kind ``journey:<topic>``) also carries the customer's one-click
    unsubscribe link for that topic (RFC 8058: ``List-Unsubscribe`` and
    ``List-Unsubscribe-Post``), derived here from the row's customer and kind; transactional
    mail carries none.
    """
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message, sender)
    topic = subscriptions.topic_of_kind(message.kind)
    if topic is not None and message.customer_id is not None:
        link = subscriptions.unsubscribe_url(message.customer_id, topic)
        email["List-Unsubscribe"] = f"<{link}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def _smtp_send(url: str, sender: str, message: OutboxMessage) -> None:
    parts = urlsplit(url)
    email = build_email(message, sender)
    secure = parts.scheme == "smtps"
    connect = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with connect(
        parts.hostname or "localhost", parts.port or (465 if secure else 25), timeout=10
    ) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 30 s, 1, 2, 4 … minutes, at most an hour."""
    factor: int = 2 ** max(attempts - 1, 0)
    return min(FIRST_BACKOFF * factor, MAX_BACKOFF)


def _due(now: datetime, limit: int) -> list[int]:
    waiting = OutboxMessage.status.in_(WAITING)
    stuck = (OutboxMessage.status == "sending") & (OutboxMessage.next_attempt_at <= now)
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                waiting | stuck,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


@retry_on_contention
def _claim(message_id_: int, now: datetime) -> OutboxMessage | None:
    """Take one message for sending (one worker only: a conditional update), or None."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id_,
            or_(
                OutboxMessage.status.in_(WAITING),
                (OutboxMessage.status == "sending") & (OutboxMessage.next_attempt_at <= now),
            ),
        )
        .values(
            status="sending",
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now + SENDING_LEASE,
        )
    )
    claimed = affected_rows(result)
    db.session.commit()
    return db.session.get(OutboxMessage, message_id_) if claimed else None


@retry_on_contention
def _settle(message: OutboxMessage, status: str, error: str = "") -> None:
    now = utcnow()
    message.status, message.error = status, error[:500]
    if status in ("sent", "logged"):
        message.sent_at, message.next_attempt_at = now, None
    elif message.created_at < now - RETRY_FOR:
        message.status, message.next_attempt_at = "undeliverable", None
    else:
        message.next_attempt_at = now + backoff(message.attempts)
    db.session.commit()


def deliver_pending(limit: int = 100) -> int:
    """Send the messages that are due (SMTP when MAIL_URL is set; otherwise log them) and
    return how many were tried. Run by the worker and ``referral send-mail``, never inside a
    request. A failed message waits its own back-off and is retried until a day has passed;
    an unreachable server ends the run at once, so an outage costs each message one attempt,
    not one per run."""
    url = current_app.config.get("MAIL_URL") or ""
    sender = current_app.config.get("MAIL_FROM", "referral@localhost")
    tried = 0
    for ident in _due(utcnow(), limit):
        message = _claim(ident, utcnow())
        if message is None:
            continue  # another worker took it
        tried += 1
        try:
            if url:
                _smtp_send(url, sender, message)
            else:
                log.info(
                    "mail to %s: %s\n%s", message.to_address, message.subject, message.body_text
                )
        except (OSError, smtplib.SMTPException) as error:
            _settle(message, "failed", str(error))
            if not isinstance(error, MESSAGE_ERRORS):
                break  # the server is away: the rest keep their turn
            continue
        _settle(message, "sent" if url else "logged")
    return tried
