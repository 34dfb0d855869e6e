"""A workspace's wording of the service's own e-mails (the confirmation, the trial
reminder, the winner's notice), per locale, and a campaign's own wording of them, per locale.

A version is checked in the sandbox when saved, with the names its e-mail may quote
(``domain.mail_templates``). When the e-mail is composed (``referral.emails``), the
recipient's locale (or its language: ``de`` for ``de_AT``) is looked up: first among the
campaign's own versions, then among the workspace's (the default for all its campaigns); with
neither, or a version that cannot be written for this person, the built-in e-mail in that
locale is sent, so a join never fails on a wording. ``campaign.name`` in a version is the
campaign's name in the recipient's language (``domain.campaign_content``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

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
from referral.services import audit, memo, privacy_requests
from referral.services.advocates import referral_url
from referral.services.journey_templates import BAD_LOCALE, NOT_VALID
from referral.services.outbox import Mail
from referral.services.privacy import OPERATOR, Actor
from referral.services.tx import atomic

log = logging.getLogger("referral.mail")
memo.watch(MessageTemplate)
NO_MAIL = N_("No such %(kind)s.")


def _known(mail: str) -> str:
    """:raise NotFound: for an e-mail the service does not let workspaces reword."""
    if mail not in mails.MAILS:
        raise NotFound(NO_MAIL, params={"kind": "e-mail"})
    return mail


def checked(mail: str, locale: str) -> None:
    """:raise NotFound: for an e-mail or a locale the service does not have."""
    if mail not in mails.MAILS or locale not in LOCALES:
        raise NotFound(NO_MAIL, params={"kind": "e-mail"})


def _audit(
    action: str, workspace_id: int, mail: str, locale: str, campaign_id: int | None, by: Actor
) -> None:
    """Audited under ``mail:confirmation`` for the workspace's version, ``campaign:12`` for a
    campaign's own (the e-mail and locale in the data)."""
    audit.record(
        action,
        f"mail:{mail}" if campaign_id is None else f"campaign:{campaign_id}",
        workspace_id=workspace_id,
        marketer_id=by.marketer_id,
        actor=by.label,
        ip_hash=by.ip_hash,
        data={"mail": mail, "locale": locale, "campaign_id": campaign_id},
    )


def versions(
    workspace_id: int, mail: str, campaign_id: int | None = None
) -> dict[str, MessageTemplate]:
    """The workspace's versions of ``mail`` by locale (a campaign's own, with its id)."""
    rows = db.session.scalars(
        select(MessageTemplate)
        .where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key == mails.key_of(_known(mail), campaign_id),
        )
        .order_by(MessageTemplate.locale)
    )
    return {row.locale: row for row in rows}


def _parts(row: MessageTemplate | None) -> MessageParts | None:
    return MessageParts(row.subject, row.text, row.html) if row else None


def starting_text(
    workspace_id: int, mail: str, locale: str, campaign_id: int | None = None
) -> MessageParts:
    """What the editor of ``mail`` in ``locale`` starts from: the saved version, else (for a
    campaign) what the workspace sends in that locale, else the English one the workspace
    wrote, else the service's English text."""
    if campaign_id is not None:
        own = _parts(versions(workspace_id, mail, campaign_id).get(locale))
        return own or starting_text(workspace_id, mail, locale)
    found = versions(workspace_id, mail)
    return _parts(found.get(locale) or found.get("en")) or mails.STARTERS[mail]


def sources(workspace_id: int, mail: str, campaign_id: int) -> dict[str, str]:
    """Per locale, what the campaign sends: its own version (``campaign``), the workspace's
    (``workspace``) or the built-in e-mail (``built_in``)."""
    own = versions(workspace_id, mail, campaign_id)
    shared = versions(workspace_id, mail)
    return {
        locale: "campaign" if locale in own else "workspace" if locale in shared else "built_in"
        for locale in LOCALES
    }


@atomic
def save_mail_template(
    workspace_id: int,
    mail: str,
    locale: str,
    subject: str,
    text: str,
    html: str = "",
    *,
    campaign_id: int | None = None,
    by: Actor = OPERATOR,
) -> MessageTemplate:
    """Write (or rewrite) the workspace's ``locale`` version of ``mail``, or with
    ``campaign_id`` that campaign's own (the caller has checked that the campaign is the
    workspace's); audited as ``mail.changed``.

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
    row = versions(workspace_id, mail, campaign_id).get(locale)
    if row is None:
        key = mails.key_of(mail, campaign_id)
        row = MessageTemplate(workspace_id=workspace_id, key=key, locale=locale)
        db.session.add(row)
    row.subject, row.text, row.html = subject, text, html
    _audit("mail.changed", workspace_id, mail, locale, campaign_id, by)
    return row


def copy_campaign_mails(workspace_id: int, source_id: int, copy_id: int) -> int:
    """Give the campaign ``copy_id`` the own versions of every e-mail that ``source_id``
    has (in the caller's transaction); returns how many."""
    copied = 0
    for mail in mails.MAILS:
        for row in versions(workspace_id, mail, source_id).values():
            db.session.add(
                MessageTemplate(
                    workspace_id=workspace_id,
                    key=mails.key_of(mail, copy_id),
                    locale=row.locale,
                    subject=row.subject,
                    text=row.text,
                    html=row.html,
                )
            )
            copied += 1
    return copied


@atomic
def remove_mail_template(
    workspace_id: int,
    mail: str,
    locale: str,
    *,
    campaign_id: int | None = None,
    by: Actor = OPERATOR,
) -> bool:
    """Send the built-in e-mail in ``locale`` again, or for a campaign what the workspace
    sends; audited as ``mail.reset``. Returns whether a version was saved (when none was,
    nothing happens and nothing is audited)."""
    removed = db.session.execute(
        delete(MessageTemplate).where(
            MessageTemplate.workspace_id == workspace_id,
            MessageTemplate.key == mails.key_of(_known(mail), campaign_id),
            MessageTemplate.locale == locale,
        )
    )
    if not getattr(removed, "rowcount", 0):
        return False
    _audit("mail.reset", workspace_id, mail, locale, campaign_id, by)
    return True


def preview_mail(
    workspace_id: int, mail: str, locale: str, campaign: Campaign | None = None
) -> Rendered:
    """``mail`` in ``locale`` written with sample data: the campaign's version (with its
    name in that language), else the workspace's version, else the service's English
    starting text.

    :raise TemplateFailed: when the saved version cannot be written.
    """
    row = versions(workspace_id, mail, campaign.id).get(locale) if campaign else None
    row = row or versions(workspace_id, mail).get(locale)
    sample = mails.sample_of(mail)
    if campaign is not None:
        name = _words(campaign, locale).name
        sample = {**sample, "campaign": {**sample["campaign"], "name": name}}
    return render_message(_parts(row) or mails.STARTERS[mail], sample)


def _words(campaign: Campaign, locale: str) -> Any:
    return content_for(
        campaign.name, campaign.description, campaign.locales, campaign.settings, locale
    )


def _chosen(workspace_id: int, mail: str, locale: str, campaign_id: int) -> MessageTemplate | None:
    """The campaign's version for ``locale`` (or its language), else the workspace's."""
    # Read once per transaction (an import composes thousands of confirmation mails), and
    # kept while the configuration is unchanged (``memo.shared``).
    own = memo.shared(
        ("mail_versions", workspace_id, mail, campaign_id),
        lambda: versions(workspace_id, mail, campaign_id),
        rows=MessageTemplate,
    )
    shared = memo.shared(
        ("mail_versions", workspace_id, mail),
        lambda: versions(workspace_id, mail),
        rows=MessageTemplate,
    )
    pieces = locale.replace("-", "_").split("_")
    candidates = ["_".join(pieces[:end]) for end in range(len(pieces), 0, -1)]
    for found in (own, shared):
        row = next((found[c] for c in candidates if c in found), None)
        if row is not None:
            return row
    return None


def custom_mail(
    mail: str,
    participation: Participation,
    customer: Customer,
    locale: str,
    links: Mapping[str, str],
) -> Mail | None:
    """The workspace's version of ``mail`` for this person in ``locale``, or None to send
    the built-in one (none written, or this one could not be written: logged)."""
    row = _chosen(customer.workspace_id, mail, locale, participation.campaign_id)
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
            "name": _words(campaign, locale).name,
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
