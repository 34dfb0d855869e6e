"""A campaign's widgets on other sites: the sites allowed to frame them, and the short-lived
tokens that show a signed-in customer of such a site their own advocate view.

An embed token is issued to the site's server through the API (``POST
/api/v1/campaigns/{id}/embed-tokens``, under the workspace's API key), never to a browser
by itself: it names one campaign and one participant of it, is signed with this service's
secret and is valid for ``EMBED_TOKEN_SECONDS`` (ten minutes by default). The site puts it on
the widget (``data-token``); the widget shows that participant's link and figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from referral.domain.emails import normalise_email
from referral.domain.embeds import clean_origins
from referral.domain.errors import N_, DomainError, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, Customer, Participation
from referral.models.base import utcnow
from referral.services import audit
from referral.services.campaigns import check_editable, lock
from referral.services.ids import parse_id
from referral.services.participant_stats import participant_of
from referral.services.tx import atomic

SALT = "embed-token"
TOKEN_SECONDS = 600
TOKEN_MAX = 400


class EmbedTokenRefused(DomainError):
    """A token that was not issued for this campaign, or was altered (403)."""

    status = 403
    title = N_("Forbidden")


class EmbedTokenExpired(EmbedTokenRefused):
    """A token past its time (401: the site asks for a new one)."""

    status = 401
    title = N_("Expired")


@dataclass(frozen=True)
class EmbedToken:
    token: str
    participant_id: int
    expires_at: datetime


@atomic
def set_embed_origins(
    campaign: Campaign,
    origins: list[str],
    *,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> Campaign:
    """Allow exactly ``origins`` to frame the campaign's widgets (an empty list: none but the
    service itself), audited as ``campaign.embed_origins_changed`` with both lists.

    :raise ValidationFailed: on ``origins`` naming each value that is not an origin
        (``domain.embeds.clean_origins``).
    :raise CampaignClosed: when the campaign is closed.
    """
    check_editable(lock(campaign))
    cleaned = clean_origins(origins)
    before = list(campaign.embed_origins or [])
    if cleaned != before:
        audit.record(
            "campaign.embed_origins_changed",
            f"campaign:{campaign.id}",
            workspace_id=campaign.workspace_id,
            marketer_id=marketer_id,
            actor=actor,
            ip_hash=ip_hash,
            data={"before": before, "after": cleaned},
        )
        campaign.embed_origins = cleaned
    return campaign


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_seconds() -> int:
    return int(current_app.config.get("EMBED_TOKEN_SECONDS", TOKEN_SECONDS))


def participant_by_email(campaign: Campaign, email: str) -> Participation:
    """The participant of ``campaign`` with this address (in any of its spellings).

    :raise ValidationFailed: on ``email``, when nobody with it takes part.
    """
    found = db.session.scalar(
        select(Participation)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(
            Participation.campaign_id == campaign.id,
            Customer.workspace_id == campaign.workspace_id,
            Customer.email == normalise_email(email),
            Customer.erased_at.is_(None),
        )
    )
    if found is None:
        raise ValidationFailed.on("email", N_("Nobody with this address takes part."))
    return found


def issue_token(campaign: Campaign, data: dict[str, Any]) -> EmbedToken:
    """A token for the participant ``data`` names by ``participant_id`` or ``email``
    (exactly one of them), valid for :func:`token_seconds`.

    :raise ValidationFailed: both or neither given, or no such participant in the campaign;
        a rejected participant is refused on ``participant_id`` as well.
    """
    if ("participant_id" in data) == ("email" in data):
        raise ValidationFailed.on(
            "participant_id", N_("Name the participant by participant_id or by email: one of them.")
        )
    if "email" in data:
        found = participant_by_email(campaign, str(data["email"]))
    else:
        found = participant_of(campaign, parse_id(str(data["participant_id"])))
    if found.status == "rejected":
        raise ValidationFailed.on("participant_id", N_("This participant was rejected."))
    token = _serializer().dumps([campaign.id, found.id, found.referral_code])
    expires = utcnow() + timedelta(seconds=token_seconds())
    return EmbedToken(token=token, participant_id=found.id, expires_at=expires)


def participant_of_token(campaign: Campaign, token: str | None) -> Participation:
    """The participant a token names, when it was issued for ``campaign`` and is in time.

    :raise EmbedTokenExpired: a genuine token past its time.
    :raise EmbedTokenRefused: missing, altered, of another campaign, or naming a participant
        that is gone (rejected, erased, or whose code changed).
    """
    refused = EmbedTokenRefused(N_("This view is not available: the link is not valid."))
    if not token or len(token) > TOKEN_MAX:
        raise refused
    try:
        campaign_id, ident, code = _serializer().loads(token, max_age=token_seconds())
    except SignatureExpired:
        raise EmbedTokenExpired(
            N_("This view has expired. Reload the page to see it again.")
        ) from None
    except (BadSignature, ValueError, TypeError):
        raise refused from None
    if campaign_id != campaign.id or not isinstance(ident, int):
        raise refused
    found = db.session.get(Participation, ident)
    if found is None or found.campaign_id != campaign.id or found.referral_code != code:
        raise refused
    if found.status == "rejected" or _erased(found):
        raise refused
    return found


def _erased(participation: Participation) -> bool:
    erased = db.session.scalar(
        select(Customer.erased_at).where(Customer.id == participation.customer_id)
    )
    return erased is not None
