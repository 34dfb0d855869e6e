"""SQLAlchemy models, one module per aggregate."""

from referral.domain.surveys import QUESTION_KINDS
from referral.models import journey  # noqa: F401 (the journey tables, see models/journey.py)
from referral.models.campaign import KINDS, REWARDS, STATUSES, Campaign, RewardRule
from referral.models.config_version import ConfigVersion
from referral.models.counter import COUNTER_SLOTS, Counter
from referral.models.customer import ConsentRecord, Customer
from referral.models.event import EVENT_KINDS, Event
from referral.models.imports import IMPORT_STATUSES, ParticipantImport
from referral.models.inbound import PROVIDERS, InboundHook, InboundReceipt
from referral.models.instant_win import InstantWinPlay, InstantWinPrize
from referral.models.ledger import LedgerEntry
from referral.models.lottery import (
    Draw,
    DrawReplacement,
    Lottery,
    LotteryEntry,
    LotteryRulesVersion,
)
from referral.models.messaging import (
    AuditEntry,
    ConfirmationToken,
    CouponCode,
    IdempotencyRecord,
    OutboxMessage,
)
from referral.models.participation import Click, Participation
from referral.models.privacy import PRIVACY_KINDS, PrivacyRequest
from referral.models.segment import Segment
from referral.models.survey import (
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from referral.models.trial import Trial, TrialReminder
from referral.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from referral.models.workspace import ROLES, ApiKey, Marketer, Membership, Workspace

__all__ = [
    "ConfigVersion",
    "IMPORT_STATUSES",
    "ParticipantImport",
    "PROVIDERS",
    "InboundHook",
    "InboundReceipt",
    "WEBHOOK_EVENTS",
    "WebhookDelivery",
    "WebhookEndpoint",
    "InstantWinPlay",
    "InstantWinPrize",
    "Trial",
    "TrialReminder",
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
    "COUNTER_SLOTS",
    "Counter",
    "ConsentRecord",
    "Customer",
    "Draw",
    "DrawReplacement",
    "Event",
    "LedgerEntry",
    "Lottery",
    "LotteryEntry",
    "LotteryRulesVersion",
    "Marketer",
    "Membership",
    "Participation",
    "PRIVACY_KINDS",
    "PrivacyRequest",
    "QUESTION_KINDS",
    "Survey",
    "SurveyAnswer",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyResponse",
    "RewardRule",
    "Segment",
    "Workspace",
]
