"""What the journey pages of the admin need beyond the journey services: a journey saved
from the editor (with its starter's messages), figures for the list, the version history,
and a message template previewed for a real customer or sent to the marketer as a test.

Saving a journey begun from a starter (``services.journey_starters``) writes the
starter's messages (in English) that its definition sends where the workspace has none of
that key yet, in the same transaction as the journey, so the journey is valid from the
start and the messages can be rewritten afterwards. A test mail is queued in the outbox like every
other mail: the worker sends it, never the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from referral.domain import mail_templates
from referral.domain.errors import N_, NotFound
from referral.domain.journey_conditions import Facts
from referral.domain.message_templates import (
    MessageParts,
    Rendered,
    render_message,
    sample_context,
)
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    OutboxMessage,
    Participation,
    Survey,
    SurveyQuestion,
)
from referral.models.journey import Journey, JourneyEnrolment, JourneyVersion, MessageTemplate
from referral.services import outbox
from referral.services.journey_facts import Subject, customer_zone
from referral.services.journey_messages import message_context
from referral.services.journey_starters import Starter, starter
from referral.services.journey_templates import save_template
from referral.services.journeys import checked_campaign, create_journey, update_journey
from referral.services.rewards import points
from referral.services.scoping import get_owned
from referral.services.tx import atomic

NO_TEMPLATE = N_("There is no message %(key)s in this language yet.")
TEST_KIND = "journey_test"
PREVIEW_CUSTOMERS = 100
UNFINISHED = ("active", "waiting")


def _sent_templates(definition: object) -> set[str]:
    steps = definition.get("steps") if isinstance(definition, dict) else None
    return {
        str(step.get("template"))
        for step in steps or []
        if isinstance(step, dict) and step.get("type") == "send"
    }


def _add_starter_messages(workspace_id: int, chosen: Starter, definition: object) -> None:
    """The starter's messages in English that the definition sends, for each key the
    workspace lacks entirely (a key it has in any language is left alone)."""
    wanted = _sent_templates(definition)
    have = set(
        db.session.scalars(
            select(MessageTemplate.key).where(
                MessageTemplate.workspace_id == workspace_id,
                MessageTemplate.key.in_(chosen.messages),
            )
        )
    )
    for key, (subject, text) in chosen.messages.items():
        if key in wanted and key not in have:
            save_template(workspace_id, key, "en", subject, text)


@atomic
def create_from_editor(
    workspace_id: int,
    name: object,
    definition: object,
    *,
    campaign_id: int | None = None,
    status: str = "draft",
    starter_key: str | None = None,
) -> Journey:
    """A new journey from the editor; with a starter, the missing messages its definition
    sends are written first (and nothing at all when the journey is refused).

    :raise ValidationFailed: as :func:`services.journeys.create_journey`.
    """
    chosen = starter(starter_key)
    if chosen is not None:
        _add_starter_messages(workspace_id, chosen, definition)
    return create_journey(workspace_id, name, definition, campaign_id=campaign_id, status=status)


@atomic
def save_from_editor(
    journey: Journey, name: object, definition: object, *, campaign_id: int | None = None
) -> Journey:
    """Rename, move to another campaign (or none) and save a new definition (a new version
    when it differs).

    :raise ValidationFailed: on ``name``, ``campaign_id`` or the definition; nothing changes.
    """
    journey.campaign_id = checked_campaign(journey.workspace_id, campaign_id)
    return update_journey(journey, name=name, definition=definition)


@dataclass(frozen=True)
class JourneyRow:
    journey: Journey
    entered: int
    in_progress: int
    goal_reached: int


def journey_rows(workspace_id: int) -> list[JourneyRow]:
    """The workspace's journeys, newest first, each with how many entered, how many are
    still under way (active or waiting) and how many reached the goal (two queries)."""
    journeys = list(
        db.session.scalars(
            select(Journey).where(Journey.workspace_id == workspace_id).order_by(Journey.id.desc())
        )
    )
    figures: dict[int, list[int]] = {j.id: [0, 0, 0] for j in journeys}
    if journeys:
        rows = db.session.execute(
            select(
                JourneyEnrolment.journey_id,
                JourneyEnrolment.status,
                func.count(),
                func.count(JourneyEnrolment.goal_reached_at),
            )
            .where(JourneyEnrolment.journey_id.in_(list(figures)))
            .group_by(JourneyEnrolment.journey_id, JourneyEnrolment.status)
        ).all()
        for ident, status, count, goals in rows:
            figures[ident][0] += count
            figures[ident][1] += count if status in UNFINISHED else 0
            figures[ident][2] += goals
    return [JourneyRow(j, *figures[j.id]) for j in journeys]


@dataclass(frozen=True)
class VersionRow:
    version: int
    saved_at: datetime
    enrolments: int


def version_history(journey: Journey) -> list[VersionRow]:
    """Every saved version, newest first, with how many enrolments run (or ran) on it."""
    counts = dict(
        db.session.execute(
            select(JourneyEnrolment.version, func.count())
            .where(JourneyEnrolment.journey_id == journey.id)
            .group_by(JourneyEnrolment.version)
        ).all()
    )
    rows = db.session.execute(
        select(JourneyVersion.version, JourneyVersion.created_at)
        .where(JourneyVersion.journey_id == journey.id)
        .order_by(JourneyVersion.version.desc())
    ).all()
    return [VersionRow(version, at, counts.get(version, 0)) for version, at in rows]


def campaign_choices(workspace_id: int) -> list[tuple[int, str]]:
    """The workspace's campaigns (id, name), newest first, to tie a journey to one."""
    rows = db.session.execute(
        select(Campaign.id, Campaign.name)
        .where(Campaign.workspace_id == workspace_id)
        .order_by(Campaign.id.desc())
    ).all()
    return [(ident, name) for ident, name in rows]


def message_catalogue(workspace_id: int) -> dict[str, dict[str, MessageTemplate]]:
    """The workspace's message templates by key, then locale (keys in order); the
    rewordings of the service's own e-mails (``mail:…``) are not journey messages."""
    found: dict[str, dict[str, MessageTemplate]] = {}
    for row in db.session.scalars(
        select(MessageTemplate)
        .where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key.not_like(f"{mail_templates.PREFIX}%"),
        )
        .order_by(MessageTemplate.key, MessageTemplate.locale)
    ):
        found.setdefault(row.key, {})[row.locale] = row
    return found


def quotable_answers(workspace_id: int) -> list[tuple[str, str, str]]:
    """The survey questions a message may quote as ``answers.q<id>``: (key, campaign,
    question) for every question of the workspace's surveys that are not anonymous."""
    rows = db.session.execute(
        select(SurveyQuestion.id, Campaign.name, SurveyQuestion.prompt)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .join(Campaign, Campaign.id == Survey.campaign_id)
        .where(Survey.workspace_id == workspace_id, Survey.anonymous.is_(False))
        .order_by(Campaign.id.desc(), SurveyQuestion.position, SurveyQuestion.id)
    ).all()
    return [(f"q{ident}", campaign, prompt) for ident, campaign, prompt in rows]


def find_template(workspace_id: int, key: str, locale: str) -> MessageTemplate | None:
    """The ``locale`` version of message ``key``, or None."""
    return db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key == key,
            MessageTemplate.locale == locale,
        )
    )


def _template(workspace_id: int, key: str, locale: str) -> MessageTemplate:
    """:raise NotFound: when the workspace has no such template."""
    row = find_template(workspace_id, key, locale)
    if row is None:
        raise NotFound(NO_TEMPLATE, params={"key": key})
    return row


def preview_customers(workspace_id: int, limit: int = PREVIEW_CUSTOMERS) -> list[Customer]:
    """The workspace's latest customers who are not erased, to preview a message for."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(Customer.workspace_id == workspace_id, Customer.erased_at.is_(None))
            .order_by(Customer.id.desc())
            .limit(limit)
        )
    )


def _subject(customer: Customer) -> Subject:
    """The customer in their latest campaign, as a journey of that campaign would see them."""
    participation = db.session.scalar(
        select(Participation)
        .where(Participation.customer_id == customer.id)
        .order_by(Participation.id.desc())
        .limit(1)
    )
    campaign = db.session.get(Campaign, participation.campaign_id) if participation else None
    facts = Facts(
        zone=customer_zone(customer, campaign),
        points=points(participation.id) if participation else 0,
        campaign_id=campaign.id if campaign else None,
    )
    return Subject(customer, participation, campaign, facts)


def _render_for(workspace_id: int, row: MessageTemplate, customer_id: object) -> Rendered:
    parts = MessageParts(row.subject, row.text, row.html)
    if customer_id is None:
        return render_message(parts, sample_context())
    customer = get_owned(Customer, customer_id, workspace_id)
    context = message_context(_subject(customer), row.locale).as_mapping()
    return render_message(parts, context)


def preview_message(workspace_id: int, key: str, locale: str, customer_id: object) -> Rendered:
    """The saved message ``key`` in ``locale`` as ``customer_id`` of the workspace would
    read it (their name, campaigns, points, friends and answers), or with sample data when
    no customer is given.

    :raise NotFound: for no such template, or a customer of another workspace.
    :raise TemplateFailed: when the message cannot be written for this customer.
    """
    return _render_for(workspace_id, _template(workspace_id, key, locale), customer_id)


@atomic
def queue_test_mail(
    workspace_id: int, key: str, locale: str, to: str, customer_id: object = None
) -> OutboxMessage:
    """The message ``key`` in ``locale``, written for ``customer_id`` (sample data without
    one), queued for the marketer's address ``to``; the worker sends it.

    :raise NotFound: for no such template, or a customer of another workspace.
    :raise TemplateFailed: when the message cannot be written.
    """
    written = _render_for(workspace_id, _template(workspace_id, key, locale), customer_id)
    mail = outbox.Mail(written.subject, written.text, written.html or "")
    message = outbox.queue(workspace_id, to, TEST_KIND, mail)
    db.session.flush()
    return message
