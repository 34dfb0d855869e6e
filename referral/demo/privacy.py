"""The demo's privacy request: one confirmed customer asked, on the privacy page, for a copy
of their data, so that the outbox holds the mailed link (it works: open it to download) and
the audit log shows the request. Idempotent: a workspace with a request is left alone."""

from __future__ import annotations

from sqlalchemy import select

from referral import emails
from referral.extensions import db
from referral.models import Campaign, Customer, Participation, PrivacyRequest
from referral.services import privacy_requests


def seed_demo_privacy_request(workspace_id: int) -> bool:
    """Ask for the export link of the workspace's first confirmed customer; False when a
    request is there already, or nobody is confirmed."""
    exists = db.session.scalar(
        select(PrivacyRequest.id).where(PrivacyRequest.workspace_id == workspace_id).limit(1)
    )
    if exists is not None:
        return False
    address = db.session.scalar(
        select(Customer.email_display)
        .join(Participation, Participation.customer_id == Customer.id)
        .join(Campaign, Campaign.id == Participation.campaign_id)
        .where(
            Campaign.workspace_id == workspace_id,
            Participation.status == "confirmed",
            Customer.erased_at.is_(None),
        )
        .order_by(Participation.id)
        .limit(1)
    )
    if not address:
        return False
    return privacy_requests.request_link(
        workspace_id, address, privacy_requests.EXPORT, emails.privacy_link
    )
