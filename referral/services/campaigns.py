"""Campaign use cases: create, edit, publish, close, list."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from referral.domain import campaigns as rules
from referral.domain.depth import above_ceiling
from referral.domain.errors import N_, ValidationFailed
from referral.domain.slugs import slugify
from referral.extensions import db
from referral.models import Campaign, Participation, Workspace
from referral.models.base import utcnow
from referral.services import audit, lottery

EDITABLE = (
    "name",
    "slug",
    "description",
    "reward_depth",
    "attribution_days",
    "hold_days",
    "starts_at",
    "ends_at",
    "locales",
)


def ceiling() -> int:
    """The operator's reward-depth ceiling (REFERRAL_MAX_REWARD_DEPTH)."""
    return int(current_app.config["REFERRAL_MAX_REWARD_DEPTH"])


def audit_depth_refused(
    workspace_id: int,
    subject: str,
    *,
    field: str,
    requested: int,
    allowed: int,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Audit a refused attempt to pay deeper than allowed (``reward_depth.refused``), in a
    transaction of its own: the request is refused, its trace stays."""
    audit.security_event(
        "reward_depth.refused",
        subject,
        workspace_id=workspace_id,
        marketer_id=marketer_id,
        actor=actor,
        outcome="denied",
        ip_hash=ip_hash,
        data={
            "field": field,
            "requested": requested,
            "allowed": allowed,
            "ceiling": ceiling(),
            **(extra or {}),
        },
    )


def _audit_depth(
    workspace_id: int, subject: str, data: dict[str, Any], who: dict[str, Any]
) -> None:
    """Audit a ``reward_depth`` above the ceiling before it is refused (the caller then
    refuses it through ``domain.campaigns.clean_campaign``)."""
    requested = above_ceiling(data.get("reward_depth"), ceiling())
    if requested is not None:
        audit_depth_refused(
            workspace_id,
            subject,
            field="reward_depth",
            requested=requested,
            allowed=ceiling(),
            **who,
        )


def _slug_taken(slug: str, except_id: int | None = None) -> bool:
    query = select(Campaign.id).where(Campaign.slug == slug)
    if except_id is not None:
        query = query.where(Campaign.id != except_id)
    return db.session.scalar(query) is not None


def _free_slug(name: str) -> str:
    base = slugify(name) or "campaign"
    slug = base
    while _slug_taken(slug):
        slug = f"{base[:55]}-{secrets.token_hex(3)}"
    return slug


def create_campaign(
    workspace: Workspace,
    data: dict[str, Any],
    *,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> Campaign:
    """A new draft campaign in ``workspace``; ``actor``/``marketer_id`` and ``ip_hash`` say
    who asked, for the audit log.

    The slug is taken from ``data`` or made from the name; slugs are unique across all
    workspaces because ``/c/<slug>`` has no workspace in it.

    :raise ValidationFailed: naming every bad field (including a taken slug); a reward depth
        above the ceiling is audited.
    """
    who = {"actor": actor, "marketer_id": marketer_id, "ip_hash": ip_hash}
    _audit_depth(workspace.id, "campaign:new", data, who)
    values = rules.clean_campaign(data, ceiling())
    rules.check_dates(values.get("starts_at"), values.get("ends_at"))
    if values.get("slug") and _slug_taken(values["slug"]):
        raise ValidationFailed.on("slug", N_("This address is already taken; choose another."))
    values.setdefault("slug", _free_slug(values["name"]))
    values.setdefault("locales", ["en"])
    settings: dict[str, Any] = {}
    if isinstance(data.get("rules"), dict):
        settings["rules"] = lottery.with_defaults(data["rules"])
    campaign = Campaign(workspace_id=workspace.id, status="draft", settings=settings, **values)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def update_campaign(
    campaign: Campaign,
    data: dict[str, Any],
    *,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> Campaign:
    """Change the given fields. The kind never changes; a closed campaign is read-only.

    :raise ValidationFailed: naming every bad field; a reward depth above the ceiling is
        audited.
    """
    if "reward_depth" in data:
        who = {"actor": actor, "marketer_id": marketer_id, "ip_hash": ip_hash}
        _audit_depth(campaign.workspace_id, f"campaign:{campaign.id}", data, who)
    if campaign.status == "closed":
        raise ValidationFailed(N_("A closed campaign can no longer be edited."), {})
    if "kind" in data and data["kind"] != campaign.kind:
        raise ValidationFailed.on("kind", N_("The kind of a campaign cannot change."))
    values = rules.clean_campaign(
        {k: v for k, v in data.items() if k in EDITABLE}, ceiling(), partial=True
    )
    rules.check_dates(
        values.get("starts_at", campaign.starts_at), values.get("ends_at", campaign.ends_at)
    )
    if values.get("slug") and _slug_taken(values["slug"], except_id=campaign.id):
        raise ValidationFailed.on("slug", N_("This address is already taken; choose another."))
    if (
        "reward_depth" in values
        and campaign.rules
        and values["reward_depth"] < max(r.level for r in campaign.rules)
    ):
        raise ValidationFailed.on(
            "reward_depth",
            N_("Some reward rules pay deeper than this; remove them before lowering the depth."),
        )
    new_rules = data.get("rules") if isinstance(data.get("rules"), dict) else None
    # Every check before the first assignment: a refused update must leave nothing in the
    # session for a later commit to write.
    if new_rules is not None and campaign.status != "draft":
        raise ValidationFailed.on("rules", N_("Official rules are frozen once published."))
    for name, value in values.items():
        setattr(campaign, name, value)
    if new_rules is not None:
        campaign.settings = {**campaign.settings, "rules": lottery.with_defaults(new_rules)}
    db.session.commit()
    return campaign


def publish_campaign(campaign: Campaign) -> Campaign:
    """Open a draft: it goes live and its landing page takes part.

    :raise Conflict: when not a draft.  :raise ValidationFailed: lottery rules missing.
    """
    rules.check_publishable(campaign.kind, campaign.status, campaign.settings)
    campaign.status = "live"
    campaign.published_at = utcnow()
    if campaign.kind == "lottery":
        lottery.open_lottery(campaign)  # the seed's commitment is public from now on
    db.session.commit()
    return campaign


def close_campaign(campaign: Campaign) -> Campaign:
    """Close a live campaign: no new participants; a lottery's entries freeze.

    :raise Conflict: when not live, or a lottery with a rule that sells entries.
    """
    rules.check_closable(campaign.status)
    if campaign.kind == "lottery":
        lottery.check_fair_entries(campaign)  # no purchase necessary (DESIGN invariant 5)
    campaign.status = "closed"
    campaign.closed_at = utcnow()
    if campaign.kind == "lottery":
        lottery.freeze_entries(campaign)  # publishes entries_digest; nothing changes them after
    db.session.commit()
    return campaign


def list_campaigns(workspace_id: int) -> list[tuple[Campaign, int, int]]:
    """The workspace's campaigns, newest first, with participant and confirmed counts."""
    participants = func.count(Participation.id)
    confirmed = func.count(Participation.confirmed_at)
    rows = db.session.execute(
        select(Campaign, participants, confirmed)
        .outerjoin(Participation, Participation.campaign_id == Campaign.id)
        .where(Campaign.workspace_id == workspace_id)
        .group_by(Campaign.id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def campaign_overview(campaign: Campaign) -> dict[str, int]:
    """Headline counts for the campaign page."""
    counts = dict(
        db.session.execute(
            select(Participation.status, func.count())
            .where(Participation.campaign_id == campaign.id)
            .group_by(Participation.status)
        ).all()
    )
    referred = db.session.scalar(
        select(func.count()).where(
            Participation.campaign_id == campaign.id, Participation.referrer_id.is_not(None)
        )
    )
    return {
        "participants": sum(counts.values()),
        "confirmed": counts.get("confirmed", 0),
        "pending": counts.get("pending", 0),
        "flagged": counts.get("flagged", 0),
        "rejected": counts.get("rejected", 0),
        "referred": referred or 0,
    }
