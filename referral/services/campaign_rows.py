"""Campaigns as every public page, join and confirmation reads them: by slug or id, kept
across transactions while the configuration is unchanged (``memo.shared``, with the
``config_version`` token that campaigns and workspaces change), and the brand's name."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from referral.domain.errors import N_, NotFound
from referral.extensions import db
from referral.models import Campaign, Workspace
from referral.services import memo

memo.watch(Campaign, Workspace)

SLUG_MAX = 64  # campaigns.slug
_BY_SLUG = select(Campaign).where(Campaign.slug == bindparam("slug"))


def campaign_by_slug(slug: str) -> Campaign | None:
    """The campaign of ``slug`` (any status), as a query gives it; read once per
    transaction and kept while the configuration is unchanged (``memo.shared``), since every
    page of a campaign starts here."""
    found = memo.shared(
        ("campaign_by_slug", slug),
        lambda: list(db.session.scalars(_BY_SLUG, {"slug": slug})),
        rows=Campaign,
    )
    return found[0] if found else None


_BY_ID = select(Campaign).where(Campaign.id == bindparam("campaign_id"))


def campaign_by_id(campaign_id: int) -> Campaign:
    """The campaign of ``campaign_id`` as :func:`campaign_by_slug` gives it (a page that
    shows a participation after its commit finds the campaign here, not by a new query).

    :raise NotFound: for an unknown id.
    """
    found = memo.shared(
        ("campaign_by_id", campaign_id),
        lambda: list(db.session.scalars(_BY_ID, {"campaign_id": campaign_id})),
        rows=Campaign,
    )
    if not found:
        raise NotFound(N_("This page does not exist."))
    return found[0]


def brand_name(campaign: Campaign) -> str:
    """The name of the brand (workspace) that runs ``campaign``, for consent texts (kept
    while the configuration is unchanged: ``memo.shared``)."""
    name = memo.shared(("brand_name", campaign.workspace_id), lambda: _brand(campaign))
    return name or campaign.name


def _brand(campaign: Campaign) -> str | None:
    workspace = db.session.get(Workspace, campaign.workspace_id)
    return workspace.name if workspace is not None else None
