"""SQLAlchemy models, one module per aggregate."""

from referral.models.campaign import KINDS, REWARDS, STATUSES, Campaign, RewardRule
from referral.models.customer import ConsentRecord, Customer
from referral.models.event import EVENT_KINDS, Event
from referral.models.ledger import LedgerEntry
from referral.models.messaging import (
    AuditEntry,
    ConfirmationToken,
    CouponCode,
    IdempotencyRecord,
    OutboxMessage,
)
from referral.models.participation import Click, Participation
from referral.models.workspace import ROLES, ApiKey, Marketer, Membership, Workspace

__all__ = [
    "EVENT_KINDS",
    "KINDS",
    "REWARDS",
    "ROLES",
    "STATUSES",
    "ApiKey",
    "AuditEntry",
    "ConfirmationToken",
    "CouponCode",
    "IdempotencyRecord",
    "OutboxMessage",
    "Campaign",
    "Click",
    "ConsentRecord",
    "Customer",
    "Event",
    "LedgerEntry",
    "Marketer",
    "Membership",
    "Participation",
    "RewardRule",
    "Workspace",
]
