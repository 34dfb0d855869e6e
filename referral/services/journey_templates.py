"""The messages journeys send: one template per key and locale, stored per workspace.

A ``send`` step names a template by its key (``welcome``); the workspace keeps it in any
of the service's locales, each with a subject, a text part and an optional HTML part. A
template is checked in the sandbox when saved (``domain.message_templates.check_message``),
and a journey is saved only when each of its ``send`` steps names a key that exists.
"""

from __future__ import annotations

from sqlalchemy import select

from referral.domain.campaigns import LOCALES
from referral.domain.errors import N_, Message, ValidationFailed
from referral.domain.journey_fields import BAD_KEY, KEY
from referral.domain.message_templates import MessageParts, check_message
from referral.extensions import db
from referral.models import Survey, SurveyQuestion
from referral.models.journey import MessageTemplate
from referral.services.tx import atomic

BAD_LOCALE = N_("Choose the locale from: %(choices)s.")
NOT_VALID = N_("The message is not valid.")


def _checked(workspace_id: int, key: object, locale: object, parts: MessageParts) -> None:
    """:raise ValidationFailed: on ``key``, ``locale``, ``subject``, ``text`` or ``html``."""
    errors: dict[str, list[str | Message]] = {}
    if not isinstance(key, str) or not KEY.fullmatch(key):
        errors["key"] = [Message(BAD_KEY, {"field": "key"})]
    if locale not in LOCALES:
        errors["locale"] = [Message(BAD_LOCALE, {"choices": ", ".join(LOCALES)})]
    errors.update(check_message(parts, question_keys(workspace_id)))
    if errors:
        raise ValidationFailed(NOT_VALID, errors)


@atomic
def save_template(
    workspace_id: int, key: str, locale: str, subject: str, text: str, html: str = ""
) -> MessageTemplate:
    """Write (or rewrite) the ``locale`` version of the message ``key``.

    :raise ValidationFailed: on ``key``, ``locale`` or a part that does not pass the
        sandbox's checks (syntax, names outside the context, forbidden constructs).
    """
    parts = MessageParts(subject, text, html)
    _checked(workspace_id, key, locale, parts)
    row = db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key == key,
            MessageTemplate.locale == locale,
        )
    )
    if row is None:
        row = MessageTemplate(workspace_id=workspace_id, key=key, locale=locale)
        db.session.add(row)
    row.subject, row.text, row.html = subject, text, html
    return row


def question_keys(workspace_id: int) -> set[str]:
    """The survey answers a message may quote (``answers.q<question id>``): the questions of
    the workspace's surveys that are not anonymous."""
    ids = db.session.scalars(
        select(SurveyQuestion.id)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .where(Survey.workspace_id == workspace_id, Survey.anonymous.is_(False))
    )
    return {f"q{ident}" for ident in ids}


def template_keys(workspace_id: int) -> set[str]:
    """The keys a ``send`` step of the workspace may name."""
    return set(
        db.session.scalars(
            select(MessageTemplate.key).where(MessageTemplate.workspace_id == workspace_id)
        )
    )


def message_versions(workspace_id: int, key: str) -> dict[str, MessageParts]:
    """The message ``key`` per locale (empty when it was removed)."""
    rows = db.session.scalars(
        select(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id, MessageTemplate.key == key
        )
    )
    return {row.locale: MessageParts(row.subject, row.text, row.html) for row in rows}
