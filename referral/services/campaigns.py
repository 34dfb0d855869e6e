"""Campaign use cases: create, edit, publish, close, list; each one unit of work."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from referral.domain import campaign_content as content
from referral.domain import campaigns as rules
from referral.domain.depth import above_ceiling
from referral.domain.errors import N_, Conflict, NotFound, ValidationFailed
from referral.domain.slugs import slugify
from referral.extensions import db
from referral.models import (
    Campaign,
    InstantWinPrize,
    Participation,
    Survey,
    SurveyQuestion,
    Workspace,
)
from referral.models.base import utcnow
from referral.services import audit, counters, lottery
from referral.services.cursors import CursorPage, page
from referral.services.tx import atomic

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
SLUG_TAKEN = N_("This address is already taken; choose another.")


class CampaignClosed(Conflict):
    """A closed campaign is read-only: every attempt to change it answers this (409)."""


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


def _write(*, chosen_slug: Any = None) -> None:
    """Write the unit's changes now, so that a unique constraint lost to a concurrent request
    is answered rather than a 500: the slug the caller chose (``chosen_slug``) was taken
    meanwhile, or (anything else) the campaign changed meanwhile and may be tried again.

    :raise ValidationFailed: on ``slug``.  :raise Conflict: otherwise.
    """
    try:
        db.session.flush()
    except IntegrityError:
        if chosen_slug:
            raise ValidationFailed.on("slug", SLUG_TAKEN) from None
        raise Conflict(N_("Another request changed this at the same time; try again.")) from None


def lock(campaign: Campaign) -> Campaign:
    """Hold the campaign's row until the commit, so that concurrent state changes apply one
    after the other (on SQLite, whose writers take turns anyway, a plain reload)."""
    db.session.refresh(campaign, with_for_update=True)
    return campaign


def check_editable(campaign: Campaign) -> Campaign:
    """:raise CampaignClosed: when the campaign is closed (it can no longer change)."""
    if campaign.status == "closed":
        raise CampaignClosed(N_("A closed campaign can no longer be changed."))
    return campaign


def campaign_page(workspace_id: int, limit: int | None, cursor: str | None) -> CursorPage[Campaign]:
    """A page of the workspace's campaigns, oldest first.

    :raise ValidationFailed: on ``limit`` or ``cursor``.
    """
    query = select(Campaign).where(Campaign.workspace_id == workspace_id)
    return page(query, Campaign.id, limit, cursor)


@atomic
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

    :raise ValidationFailed: naming every bad field (including a taken slug, also one taken
        at the same moment, and the words in other languages, ``translations.<locale>…``); a
        reward depth above the ceiling is audited.
    """
    who = {"actor": actor, "marketer_id": marketer_id, "ip_hash": ip_hash}
    _audit_depth(workspace.id, "campaign:new", data, who)
    values = rules.clean_campaign(data, ceiling())
    rules.check_dates(values.get("starts_at"), values.get("ends_at"))
    if values.get("slug") and _slug_taken(values["slug"]):
        raise ValidationFailed.on("slug", SLUG_TAKEN)
    values.setdefault("slug", _free_slug(values["name"]))
    values.setdefault("locales", ["en"])
    settings: dict[str, Any] = content.changed_settings({}, data, values["locales"])
    if isinstance(data.get("rules"), dict):
        settings["rules"] = lottery.with_defaults(data["rules"])
    campaign = Campaign(workspace_id=workspace.id, status="draft", settings=settings, **values)
    db.session.add(campaign)
    _write(chosen_slug=data.get("slug"))
    return campaign


def create_in_workspace(workspace_id: int, data: dict[str, Any], **who: Any) -> Campaign:
    """:func:`create_campaign` in the workspace with this id.

    :raise NotFound: when the workspace is gone (deleted while its API key was in use).
    """
    workspace = db.session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(N_("No such workspace."))
    return create_campaign(workspace, data, **who)


def _changes(campaign: Campaign, data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned editable fields of ``data``, checked against the stored campaign.

    :raise ValidationFailed: naming every bad field.
    """
    if "kind" in data and data["kind"] != campaign.kind:
        raise ValidationFailed.on("kind", N_("The kind of a campaign cannot change."))
    values = rules.clean_campaign(
        {k: v for k, v in data.items() if k in EDITABLE}, ceiling(), partial=True
    )
    rules.check_dates(
        values.get("starts_at", campaign.starts_at), values.get("ends_at", campaign.ends_at)
    )
    if values.get("slug") and _slug_taken(values["slug"], except_id=campaign.id):
        raise ValidationFailed.on("slug", SLUG_TAKEN)
    if (
        "reward_depth" in values
        and campaign.rules
        and values["reward_depth"] < max(r.level for r in campaign.rules)
    ):
        raise ValidationFailed.on(
            "reward_depth",
            N_("Some reward rules pay deeper than this; remove them before lowering the depth."),
        )
    return values


def _consent_versions(locales: list[str], settings: dict[str, Any]) -> dict[str, str]:
    return {
        locale: content.content_for("", "", locales, settings, locale).consent_version
        for locale in locales
    }


def _words(locales: list[str] | None, settings: dict[str, Any]) -> tuple[Any, ...]:
    """What a change of the campaign's words is compared by."""
    return (
        content.default_locale(locales, settings),
        settings.get("benefit") or "",
        settings.get("consent_text") or "",
        settings.get("translations") or {},
    )


def _audit_content(
    campaign: Campaign, locales: list[str], settings: dict[str, Any], who: dict[str, Any]
) -> None:
    """Audit a change of the campaign's words in other languages or of a consent sentence
    (``campaign.content_changed``), naming the languages and the consent versions now."""
    if _words(campaign.locales, campaign.settings or {}) == _words(locales, settings):
        return
    audit.record(
        "campaign.content_changed",
        f"campaign:{campaign.id}",
        workspace_id=campaign.workspace_id,
        marketer_id=who["marketer_id"],
        actor=who["actor"],
        ip_hash=who["ip_hash"],
        data={
            "translations": sorted(settings.get("translations") or {}),
            "consent_versions": _consent_versions(locales, settings),
        },
    )


@atomic
def update_campaign(
    campaign: Campaign,
    data: dict[str, Any],
    *,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> Campaign:
    """Change the given fields. The kind never changes; official rules are frozen once
    published; a closed campaign is read-only. The words in other languages and the consent
    sentences (``default_locale``, ``benefit``, ``consent_text``, ``translations``: see
    ``domain.campaign_content``) may change in any state; a changed sentence is a new
    consent version, and the change is audited as ``campaign.content_changed``.

    :raise CampaignClosed: when the campaign is closed.
    :raise ValidationFailed: naming every bad field; a reward depth above the ceiling is
        audited.
    """
    check_editable(lock(campaign))
    who = {"actor": actor, "marketer_id": marketer_id, "ip_hash": ip_hash}
    if "reward_depth" in data:
        _audit_depth(campaign.workspace_id, f"campaign:{campaign.id}", data, who)
    values = _changes(campaign, data)
    new_rules = data.get("rules") if isinstance(data.get("rules"), dict) else None
    if new_rules is not None and campaign.status != "draft":
        raise ValidationFailed.on("rules", N_("Official rules are frozen once published."))
    locales = list(values.get("locales", campaign.locales) or [])
    settings = content.changed_settings(campaign.settings or {}, data, locales)
    _audit_content(campaign, locales, settings, who)
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.settings = settings
    if new_rules is not None:
        campaign.settings = {**campaign.settings, "rules": lottery.with_defaults(new_rules)}
    _write(chosen_slug=data.get("slug"))
    return campaign


def _engagement_counts(campaign: Campaign) -> dict[str, int]:
    """What a survey or an instant-win game needs to go live, counted: its questions, or
    its prizes that can be won (switched on, in stock)."""
    if campaign.kind == "survey":
        questions = (
            select(func.count(SurveyQuestion.id))
            .join(Survey, Survey.id == SurveyQuestion.survey_id)
            .where(Survey.campaign_id == campaign.id)
        )
        return {"questions": db.session.scalar(questions) or 0}
    if campaign.kind == "instant_win":
        prizes = select(func.count(InstantWinPrize.id)).where(
            InstantWinPrize.campaign_id == campaign.id,
            InstantWinPrize.active.is_(True),
            InstantWinPrize.remaining > 0,
        )
        return {"prizes": db.session.scalar(prizes) or 0}
    return {}


@atomic
def publish_campaign(campaign: Campaign) -> Campaign:
    """Open a draft: it goes live and its landing page takes part.

    :raise Conflict: when not a draft.
    :raise ValidationFailed: a lottery's official rules missing (``rules.…``), a survey
        without questions (``questions``), a game without a prize to win (``prizes``).
    """
    lock(campaign)
    rules.check_publishable(
        campaign.kind, campaign.status, campaign.settings, **_engagement_counts(campaign)
    )
    campaign.status = "live"
    campaign.published_at = utcnow()
    if campaign.kind == "lottery":
        lottery.open_lottery(campaign)  # the seed's commitment is public from now on
    _write()
    return campaign


@atomic
def close_campaign(campaign: Campaign) -> Campaign:
    """Close a live campaign: no new participants; a lottery's entries freeze.

    :raise Conflict: when not live, or a lottery with a rule that sells entries (no purchase
        necessary, DESIGN invariant 5: checked by ``lottery.freeze_entries``).
    """
    lock(campaign)
    rules.check_closable(campaign.status)
    campaign.status = "closed"
    campaign.closed_at = utcnow()
    if campaign.kind == "lottery":
        lottery.freeze_entries(campaign)  # publishes entries_digest; nothing changes them after
    _write()
    return campaign


def find_campaign(campaign_id: int) -> Campaign | None:
    """Any workspace's campaign by id, for the operator's commands (the admin and the API
    load campaigns through their workspace only)."""
    return db.session.get(Campaign, campaign_id)


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
    """Headline counts for the campaign page, from the campaign's counters
    (``services.counters``): participants by status, and how many came through a link."""
    kept = counters.campaign_counts(campaign.id)
    status = counters.by_status(kept, "status")
    return {
        "participants": sum(status.values()),
        "confirmed": status["confirmed"],
        "pending": status["pending"],
        "flagged": status["flagged"],
        "rejected": status["rejected"],
        "referred": sum(counters.by_status(kept, "referred").values()),
    }
