"""Duplicating a campaign: a new draft set up like the original, with none of its people.

What a copy carries: the campaign's fields (kind, description, dates, languages, reward
depth, attribution window, hold period), its settings (official rules of a prize draw as they
stand now, game and trial settings, caps, consent text, the words in each language), every
reward rule (switched off ones stay off), the survey with its questions and options, the
instant-win prize table with its full stock again, and the campaign's own e-mail texts.

What it never carries: participations, clicks, events, ledger lines, survey responses,
plays, frozen entries, a draw, or the lottery's seed and commitment (a copy commits to its own
seed when it is published). Coupon codes stay with the original too, used or not: each code is
handed out once, and a code copied into a second pool could be handed out twice. Journeys
aimed at the original stay aimed at it.
"""

from __future__ import annotations

import copy as deep
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from referral.domain.errors import N_, Conflict
from referral.extensions import db
from referral.models import (
    Campaign,
    InstantWinPrize,
    RewardRule,
    Survey,
    SurveyOption,
    SurveyQuestion,
)
from referral.services import audit, mail_templates
from referral.services.campaigns import _write
from referral.services.tx import atomic

SLUG_MAX = 64
SLUG_ATTEMPTS = 5
NAME_MAX = 120
NAME_SUFFIX = " (copy)"
# Settings a campaign gathers on its way through publish, close and draw: its own, never a copy's.
RUN_STATE = frozenset({"commitment", "entries_digest", "draw_id"})
COPIED_FIELDS = (
    "kind",
    "description",
    "starts_at",
    "ends_at",
    "reward_depth",
    "attribution_days",
    "hold_days",
)


def copy_name(name: str) -> str:
    """``name`` with `` (copy)``, shortened first so that the whole keeps to 120 characters."""
    return name[: NAME_MAX - len(NAME_SUFFIX)].rstrip() + NAME_SUFFIX


def copy_slug(slug: str) -> str:
    """The first free slug of ``<slug>-copy``, ``<slug>-copy-2``, ``<slug>-copy-3``, …

    Slugs are unique across workspaces (``/c/<slug>``), so every workspace's slugs count. The
    base is shortened so that each candidate keeps to 64 characters; the taken candidates are
    read in one query.
    """
    root = slug[: SLUG_MAX - len("-copy-99999")].rstrip("-")
    base = f"{root}-copy"
    taken = set(
        db.session.scalars(
            select(Campaign.slug).where(
                (Campaign.slug == base) | Campaign.slug.startswith(f"{base}-", autoescape=True)
            )
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _copy_rules(source: Campaign, copy: Campaign) -> None:
    for rule in source.rules:
        copy.rules.append(
            RewardRule(
                event=rule.event,
                milestone=rule.milestone,
                level=rule.level,
                reward=rule.reward,
                amount=rule.amount,
                currency=rule.currency,
                active=rule.active,
            )
        )


def _copy_survey(source: Campaign, copy: Campaign) -> int:
    """The survey, its questions and their options, in their order; returns the number of
    questions copied. The copy's quota counts its own responses; it starts open."""
    survey = db.session.scalar(select(Survey).where(Survey.campaign_id == source.id))
    if survey is None:
        return 0
    copied = Survey(
        workspace_id=copy.workspace_id,
        campaign_id=copy.id,
        intro=survey.intro,
        anonymous=survey.anonymous,
        quota=survey.quota,
    )
    for question in survey.questions:
        copied.questions.append(
            SurveyQuestion(
                position=question.position,
                kind=question.kind,
                prompt=question.prompt,
                required=question.required,
                options=[
                    SurveyOption(position=option.position, label=option.label)
                    for option in question.options
                ],
            )
        )
    db.session.add(copied)
    return len(survey.questions)


def _copy_prizes(source: Campaign, copy: Campaign) -> int:
    """The instant-win prize table with the same odds and a full stock; returns how many."""
    prizes = db.session.scalars(
        select(InstantWinPrize)
        .where(InstantWinPrize.campaign_id == source.id)
        .order_by(InstantWinPrize.id)
    ).all()
    db.session.add_all(
        InstantWinPrize(
            campaign_id=copy.id,
            name=prize.name,
            chance_ppm=prize.chance_ppm,
            inventory=prize.inventory,
            remaining=prize.inventory,
            active=prize.active,
        )
        for prize in prizes
    )
    return len(prizes)


def _insert_copy(source: Campaign) -> Campaign:
    """The copy's campaign row at the first free slug. A concurrent copy that took the slug
    first (PostgreSQL lets this insert wait for it, then refuses it) moves this one on to
    the next free slug, in a savepoint, a few times.

    :raise Conflict: when the slug was taken under it every time.
    """
    values: dict[str, Any] = {name: getattr(source, name) for name in COPIED_FIELDS}
    for _attempt in range(SLUG_ATTEMPTS):
        copy = Campaign(
            workspace_id=source.workspace_id,
            name=copy_name(source.name),
            slug=copy_slug(source.slug),
            status="draft",
            locales=list(source.locales or ["en"]),
            settings={
                k: deep.deepcopy(v)
                for k, v in (source.settings or {}).items()
                if k not in RUN_STATE
            },
            **values,
        )
        try:
            with db.session.begin_nested():
                db.session.add(copy)
        except IntegrityError:
            continue
        return copy
    raise Conflict(N_("Another request changed this at the same time; try again."))


@atomic
def duplicate_campaign(
    source: Campaign,
    *,
    actor: str = "",
    marketer_id: int | None = None,
    ip_hash: str | None = None,
) -> Campaign:
    """A new draft in the source's workspace, set up like ``source`` (of any status) and
    named "… (copy)" at the first free ``<slug>-copy[-n]`` address; audited as
    ``campaign.duplicated`` in the same transaction. What is copied and what never is: the
    module's docstring.

    :raise Conflict: when concurrent copies kept taking the slugs it chose (try again).
    """
    copy = _insert_copy(source)
    _copy_rules(source, copy)
    questions = _copy_survey(source, copy)
    prizes = _copy_prizes(source, copy)
    mails = mail_templates.copy_campaign_mails(source.workspace_id, source.id, copy.id)
    _write()
    audit.record(
        "campaign.duplicated",
        f"campaign:{copy.id}",
        workspace_id=source.workspace_id,
        marketer_id=marketer_id,
        actor=actor,
        ip_hash=ip_hash,
        data={
            "source_id": source.id,
            "slug": copy.slug,
            "reward_rules": len(copy.rules),
            "questions": questions,
            "prizes": prizes,
            "mails": mails,
        },
    )
    return copy
