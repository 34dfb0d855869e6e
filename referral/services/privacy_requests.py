"""A customer's own privacy rights: a copy of their data, or its erasure, asked for by them.

The privacy page (``/privacy/<token>``, linked from every e-mail and from the advocate page)
names a workspace, and the customer when reached from their own mail or page (then their
address is filled in). There the person asks for a download of their data or for erasure.
Nothing is shown on the page: a link is mailed to the address given, through the outbox, so
only the owner of the mailbox can go on. The page answers the same whether or not the
address is known (no account enumeration).

A link is single use and expires after :data:`LINK_TTL`; only the SHA-256 of its token is
stored (as for confirmation links). Opening it shows a page with a button (mail scanners
follow links, and following one must change nothing); the button downloads the JSON of
:func:`privacy.customer_document` or runs :func:`privacy.erase_in_transaction`, in the
transaction that uses the link.

The audit log shows each step by the customer's id only: ``privacy.<kind>.requested`` (an
unknown address with its masked form), ``privacy.<kind>.mailed`` and
``privacy.<kind>.completed``, next to the ``customer.exported`` or ``customer.erased``
entry of the export or erasure itself.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from referral.domain.emails import normalise_email
from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Customer, PrivacyRequest, Workspace
from referral.models.base import utcnow
from referral.services import audit, outbox
from referral.services.privacy import (
    Actor,
    audit_customer,
    customer_document,
    erase_in_transaction,
)
from referral.services.tx import atomic

EXPORT = "export"
ERASURE = "erasure"
KINDS = (EXPORT, ERASURE)
LINK_TTL = timedelta(hours=24)
PAGE_SALT = "privacy-page"
# The outbox kind of each mailed link.
MAIL_KINDS = {EXPORT: "privacy:export", ERASURE: "privacy:erasure"}
# Nothing names the workspace of a forged token: the person is sent to their mail, where
# every message ends with the link to the privacy page.
INVALID_PAGE = N_(
    "This link is not valid. Open “Download or erase your data” at the end of any e-mail "
    "we sent you."
)
INVALID_LINK = N_(
    "This link is not valid. Ask for a new one through “Download or erase your data” at the "
    "end of any e-mail we sent you."
)

Composer = Callable[[Customer, str, str], outbox.Mail]
"""``(customer, kind, token) -> Mail``: the message carrying the link ``/privacy/link/<token>``."""


class LinkRefused(Conflict):
    """A mailed link that can no longer be used. ``page`` is the token of the privacy page
    where the person asks for a new one (naming them, unless they are erased)."""

    status = 410

    def __init__(self, message: str, page: str) -> None:
        super().__init__(message)
        self.page = page


class LinkUsed(LinkRefused):
    """A link that did its work already."""


class LinkExpired(LinkRefused):
    """A link past its time."""


@dataclass(frozen=True)
class Opened:
    """What a valid, unused link is for: its kind, the customer and the workspace."""

    request: PrivacyRequest
    customer: Customer
    workspace: Workspace


def customer_actor(ip_hash: str | None = None) -> Actor:
    """The customer acting on their own data, for the audit log."""
    return Actor(label="customer", ip_hash=ip_hash)


# --- the privacy page's address -----------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PAGE_SALT)


def page_token(workspace_id: int, customer_id: int | None = None) -> str:
    """The signed part of the privacy page address of a workspace (and a customer)."""
    return _serializer().dumps([workspace_id, customer_id])


def page_url(workspace_id: int, customer_id: int | None = None) -> str:
    """The absolute privacy page address, for e-mails (``privacy_url``)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return f"{base}/privacy/{page_token(workspace_id, customer_id)}"


def from_page_token(token: str) -> tuple[Workspace, Customer | None]:
    """The workspace a privacy page token names, and its customer when it names one who is
    still there (an erased or gone customer is left out, the page still works).

    :raise NotFound: a forged or altered token, or a workspace that is gone.
    """
    try:
        workspace_id, customer_id = _serializer().loads(token)
    except (BadData, ValueError, TypeError):
        raise NotFound(INVALID_PAGE) from None
    workspace = db.session.get(Workspace, workspace_id) if type(workspace_id) is int else None
    if workspace is None:
        raise NotFound(INVALID_PAGE)
    customer = db.session.get(Customer, customer_id) if type(customer_id) is int else None
    if customer is None or customer.workspace_id != workspace.id or customer.erased_at:
        customer = None
    return workspace, customer


# --- asking -------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _known(workspace_id: int, address: str) -> Customer | None:
    return db.session.scalars(
        select(Customer).where(
            Customer.workspace_id == workspace_id,
            Customer.email == address,
            Customer.erased_at.is_(None),
        )
    ).first()


@atomic
def request_link(
    workspace_id: int,
    address: str,
    kind: str,
    compose: Composer,
    *,
    ip_hash: str | None = None,
) -> bool:
    """Mail a single-use link for ``kind`` to ``address`` when it is a customer's of the
    workspace (who is not erased), and return whether one was queued. The caller must not
    tell the person which: the answer on the page is the same either way.

    The request is audited as ``privacy.<kind>.requested`` either way (an unknown address
    by its masked form), and the queued link as ``privacy.<kind>.mailed``.

    :raise ValidationFailed: an unknown ``kind`` or a malformed address (``email``).
    """
    if kind not in KINDS:
        raise ValidationFailed.on("kind", N_("Choose what you would like us to do."))
    identity = normalise_email(address)
    customer = _known(workspace_id, identity)
    by = customer_actor(ip_hash)
    if customer is None:
        audit.record(
            f"privacy.{kind}.requested",
            "customer:unknown",
            workspace_id=workspace_id,
            actor=by.label,
            ip_hash=ip_hash,
            data={"known": False, "address": audit.mask_email(identity)},
        )
        return False
    audit_customer(f"privacy.{kind}.requested", customer, by, {"known": True})
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = PrivacyRequest(
        workspace_id=workspace_id,
        customer_id=customer.id,
        kind=kind,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + LINK_TTL,
    )
    db.session.add(row)
    db.session.flush()
    outbox.queue(
        workspace_id,
        customer.email_display,
        MAIL_KINDS[kind],
        compose(customer, kind, token),
        customer.id,
    )
    audit_customer(f"privacy.{kind}.mailed", customer, by, {"request": row.id})
    return True


# --- using the link -----------------------------------------------------------------------


def _find(token: str, *, lock: bool) -> Opened:
    query = (
        select(PrivacyRequest, Customer, Workspace)
        .join(Customer, Customer.id == PrivacyRequest.customer_id)
        .join(Workspace, Workspace.id == PrivacyRequest.workspace_id)
        .where(PrivacyRequest.token_hash == _digest(token or ""))
    )
    if lock:
        query = query.with_for_update(of=PrivacyRequest).execution_options(populate_existing=True)
    found = db.session.execute(query).first()
    if found is None:
        raise NotFound(INVALID_LINK)
    row, customer, workspace = found
    page = page_token(workspace.id, None if customer.erased_at else customer.id)
    if row.used_at is not None or customer.erased_at is not None:
        raise LinkUsed(
            N_("This link has been used already. Ask for a new one on the privacy page."), page
        )
    if row.expires_at < utcnow():
        raise LinkExpired(N_("This link has expired. Ask for a new one on the privacy page."), page)
    return Opened(row, customer, workspace)


def open_link(token: str) -> Opened:
    """What a mailed link is for, without using it (the page with the button).

    :raise NotFound: an unknown token.  :raise LinkUsed: used already, or the customer is
        erased.  :raise LinkExpired: past :data:`LINK_TTL`.
    """
    return _find(token, lock=False)


@atomic
def download(token: str, *, ip_hash: str | None = None) -> tuple[Opened, dict[str, Any]]:
    """Use an export link: everything held about the customer
    (:func:`privacy.customer_document`), audited as ``customer.exported`` and
    ``privacy.export.completed`` in the transaction that marks the link used.

    :raise NotFound: an unknown token, or one of an erasure link.  :raise LinkUsed:
        :raise LinkExpired: as :func:`open_link`.
    """
    opened = _find(token, lock=True)
    if opened.request.kind != EXPORT:
        raise NotFound(INVALID_LINK)
    opened.request.used_at = utcnow()
    document = customer_document(opened.customer)
    by = customer_actor(ip_hash)
    data = {"request": opened.request.id}
    audit_customer("customer.exported", opened.customer, by, {"erased": False, **data})
    audit_customer("privacy.export.completed", opened.customer, by, data)
    return opened, document


@atomic
def erase(token: str, *, ip_hash: str | None = None) -> Opened:
    """Use an erasure link: the customer is erased (:func:`privacy.erase_in_transaction`:
    their personal data goes everywhere, a pseudonymous node stays, so other people's
    rewards and published draws do not change), audited as ``customer.erased`` and
    ``privacy.erasure.completed`` in the transaction that marks the link used.

    :raise NotFound: an unknown token, or one of an export link.  :raise LinkUsed:
        :raise LinkExpired: as :func:`open_link`.
    """
    opened = _find(token, lock=True)
    if opened.request.kind != ERASURE:
        raise NotFound(INVALID_LINK)
    opened.request.used_at = utcnow()
    by = customer_actor(ip_hash)
    erase_in_transaction(opened.customer, by)
    audit_customer("privacy.erasure.completed", opened.customer, by, {"request": opened.request.id})
    return opened
