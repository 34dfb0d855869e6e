"""Outgoing e-mail through the outbox: queued in the caller's transaction, delivered after."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select

from referral.extensions import db
from referral.models import OutboxMessage
from referral.models.base import utcnow

log = logging.getLogger("referral.mail")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str = ""


def queue(
    workspace_id: int, to: str, kind: str, mail: Mail, customer_id: int | None = None
) -> OutboxMessage:
    """Add a message to the outbox (no commit: it belongs to the caller's transaction)."""
    message = OutboxMessage(
        workspace_id=workspace_id,
        customer_id=customer_id,
        kind=kind,
        to_address=to,
        subject=mail.subject[:200],
        body_text=mail.text,
        body_html=mail.html,
    )
    db.session.add(message)
    return message


def _smtp_send(url: str, sender: str, message: OutboxMessage) -> None:
    parts = urlsplit(url)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
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


def deliver_pending(limit: int = 100) -> int:
    """Send queued messages (SMTP when MAIL_URL is set; otherwise log them). Returns how many
    were handled. Failures are recorded and retried on the next run, up to MAX_ATTEMPTS."""
    url = current_app.config.get("MAIL_URL") or ""
    sender = current_app.config.get("MAIL_FROM", "referral@localhost")
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("queued", "failed")), OutboxMessage.attempts < MAX_ATTEMPTS
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    for message in messages:
        message.attempts += 1
        try:
            if url:
                _smtp_send(url, sender, message)
                message.status = "sent"
            else:
                log.info(
                    "mail to %s: %s\n%s", message.to_address, message.subject, message.body_text
                )
                message.status = "logged"
            message.sent_at = utcnow()
            message.error = ""
        except (OSError, smtplib.SMTPException) as error:
            message.status = "failed"
            message.error = str(error)[:500]
        db.session.commit()
    return len(messages)
