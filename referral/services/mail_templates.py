"""A workspace's wording of the service's own e-mails (the confirmation, the trial
reminder, the winner's notice), per locale.

A version is checked in the sandbox when saved, with the names its e-mail may quote
(``domain.mail_templates``). When the e-mail is composed (``referral.emails``), the
recipient's locale (or its language: ``de`` for ``de_AT``) is looked up; a workspace that
has not written it, or a version that cannot be written for this person, sends the
built-in e-mail in that locale, so a join never fails on a wording.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import delete, select

from referral.domain import mail_templates as mails
from referral.domain.campaign_content import content_for
from referral.domain.campaigns import LOCALES
from referral.domain.errors import N_, Message, NotFound, ValidationFailed
from referral.domain.message_templates import (
    MessageParts,
    Rendered,
    TemplateFailed,
    check_message,
    render_message,
)
from referral.extensions import db
from referral.models import Campaign, Customer, Participation
from referral.models.journey import MessageTemplate
from referral.services import memo, privacy_requests
from referral.services.advocates import referral_url
from referral.services.journey_templates import BAD_LOCALE, NOT_VALID
from referral.services.outbox import Mail
from referral.services.tx import atomic

log = logging.getLogger("referral.mail")
memo.watch(MessageTemplate)
NO_MAIL = N_("No such %(kind)s.")


def _known(mail: str) -> str:
    """:raise NotFound: for an e-mail the service does not let workspaces reword."""
    if mail not in mails.MAILS:
        raise NotFound(NO_MAIL, params={"kind": "e-mail"})
    return mail


def versions(workspace_id: int, mail: str) -> dict[str, MessageTemplate]:
    """The workspace's versions of ``mail`` by locale."""
    rows = db.session.scalars(
        select(MessageTemplate)
        .where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key == mails.key_of(_known(mail)),
        )
        .order_by(MessageTemplate.locale)
    )
    return {row.locale: row for row in rows}


def starting_text(workspace_id: int, mail: str, locale: str) -> MessageParts:
    """What the editor of ``mail`` in ``locale`` starts from: the saved version, else the
    English one the workspace wrote, else the service's English text."""
    found = versions(workspace_id, mail)
    row = found.get(locale) or found.get("en")
    return MessageParts(row.subject, row.text, row.html) if row else mails.STARTERS[mail]


@atomic
def save_mail_template(
    workspace_id: int, mail: str, locale: str, subject: str, text: str, html: str = ""
) -> MessageTemplate:
    """Write (or rewrite) the workspace's ``locale`` version of ``mail``.

    :raise NotFound: for an e-mail that cannot be reworded.
    :raise ValidationFailed: on ``locale``, or a part that does not pass the sandbox's
        checks (syntax, names the e-mail does not have, forbidden constructs).
    """
    parts = MessageParts(subject, text, html)
    errors: dict[str, list[Message]] = {}
    if locale not in LOCALES:
        errors["locale"] = [Message(BAD_LOCALE, {"choices": ", ".join(LOCALES)})]
    errors.update(check_message(parts, (), mails.fields_of(_known(mail)), mails.sample_of(mail)))
    if errors:
        raise ValidationFailed(NOT_VALID, errors)
    row = versions(workspace_id, mail).get(locale)
    if row is None:
        row = MessageTemplate(workspace_id=workspace_id, key=mails.key_of(mail), locale=locale)
        db.session.add(row)
    row.subject, row.text, row.html = subject, text, html
    return row


@atomic
def remove_mail_template(workspace_id: int, mail: str, locale: str) -> None:
    """Send the built-in e-mail in ``locale`` again (nothing happens when none was saved)."""
    db.session.execute(
        delete(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key == mails.key_of(_known(mail)),
            MessageTemplate.locale == locale,
        )
    )


def preview_mail(workspace_id: int, mail: str, locale: str) -> Rendered:
    """``mail`` in ``locale`` written with sample data: the workspace's version, else the
    service's English starting text.

    :raise TemplateFailed: when the saved version cannot be written.
    """
    row = versions(workspace_id, mail).get(locale)
    parts = MessageParts(row.subject, row.text, row.html) if row else mails.STARTERS[mail]
    return render_message(parts, mails.sample_of(mail))


def _chosen(workspace_id: int, mail: str, locale: str) -> MessageTemplate | None:
    # Read once per transaction: an import composes thousands of confirmation mails.
    found = memo.remember(
        ("mail_versions", workspace_id, mail), lambda: versions(workspace_id, mail)
    )
    pieces = locale.replace("-", "_").split("_")
    candidates = ["_".join(pieces[:end]) for end in range(len(pieces), 0, -1)]
    return next((found[c] for c in candidates if c in found), None)


def custom_mail(
    mail: str,
    participation: Participation,
    customer: Customer,
    locale: str,
    links: Mapping[str, str],
) -> Mail | None:
    """The workspace's version of ``mail`` for this person in ``locale``, or None to send
    the built-in one (none written, or this one could not be written: logged)."""
    row = _chosen(customer.workspace_id, mail, locale)
    if row is None:
        return None
    campaign = db.session.get(Campaign, participation.campaign_id)
    assert campaign is not None
    base = current_app.config["PUBLIC_BASE_URL"]
    context = {
        "customer": {
            "name": customer.name or "",
            "first_name": (customer.name or "").split(" ")[0],
            "locale": locale,
        },
        "campaign": {
            "name": content_for(
                campaign.name, campaign.description, campaign.locales, campaign.settings, locale
            ).name,
            "slug": campaign.slug,
            "url": f"{base}/c/{campaign.slug}",
        },
        "referral_link": referral_url(participation),
        "privacy_url": privacy_requests.page_url(customer.workspace_id, customer.id),
        **links,
    }
    try:
        written = render_message(MessageParts(row.subject, row.text, row.html), context)
    except TemplateFailed as failed:
        log.warning("the %s mail of workspace %s failed: %s", mail, row.workspace_id, failed)
        return None
    return Mail(written.subject, written.text, written.html or "")
