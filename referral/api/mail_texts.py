"""The wording of the service's own e-mails (the confirmation, the trial reminder, the
winner's notice) per locale, as marketers write it on the admin's e-mail pages: the
workspace's versions, and a campaign's own, sent instead of the workspace's in a locale.

Every part is checked in the sandbox by ``services.mail_templates``, as the admin's form is;
changes are audited there (``mail.changed``, ``mail.reset``).
"""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import List, Nested, String
from apiflask.schemas import EmptySchema
from apiflask.validators import Length
from flask import g

from referral.api.auth import caller
from referral.api.lookup import owned_campaign
from referral.api.operations import changes, operation, reads
from referral.api.schemas import Text, _Out
from referral.domain import mail_templates as mails
from referral.domain.campaigns import LOCALES
from referral.domain.message_templates import SOURCE_MAX, SUBJECT_MAX
from referral.services import mail_templates as service
from referral.services.privacy import Actor

KINDS = "`confirmation`, `trial_ending` (the trial reminder) or `draw_winner` (the winner's notice)"
SOURCES = (
    "What is sent in this locale: `built_in` (the service's own e-mail, in the locale), "
    "`workspace` (the workspace's version) or, for a campaign, `campaign` (its own)."
)
PARTS = (
    "`subject` and `text` are required, `html` optional (empty: text only); each is a "
    "template of the journey messages' sandbox (docs/JOURNEYS.md) that may quote only the "
    "names in `placeholders`."
)


class MailTextIn(Schema):
    subject = Text(required=True, validate=Length(max=SUBJECT_MAX))
    text = Text(required=True, validate=Length(max=SOURCE_MAX))
    html = Text(load_default="", validate=Length(max=SOURCE_MAX))


class MailTextOut(_Out):
    """Dumps the dict of :func:`_text`."""

    kind = String(required=True, metadata={"description": KINDS})
    locale = String(required=True)
    source = String(required=True, metadata={"description": SOURCES})
    subject = String(required=True)
    text = String(required=True)
    html = String(required=True, metadata={"description": "Empty: the e-mail is text only."})
    placeholders = List(
        String(),
        required=True,
        metadata={"description": "The names a version may quote (`{{ campaign.name }}`)."},
    )


class MailTextItem(MailTextOut):
    """One e-mail of a list (a schema of its own: the lists come first in the document, and
    nesting :class:`MailTextOut` there would give the single answers a numbered copy)."""


class MailTextList(_Out):
    items = List(Nested(MailTextItem), required=True)


def _text(kind: str, locale: str, campaign_id: int | None = None) -> dict[str, Any]:
    """One e-mail in one locale: the saved version's parts, or (when none is saved) what the
    admin's editor starts from, and what is sent."""
    service.checked(kind, locale)
    start = service.starting_text(g.workspace_id, kind, locale, campaign_id)
    if campaign_id is None:
        saved = locale in service.versions(g.workspace_id, kind)
        source = "workspace" if saved else "built_in"
    else:
        source = service.sources(g.workspace_id, kind, campaign_id)[locale]
    return {
        "kind": kind,
        "locale": locale,
        "source": source,
        "subject": start.subject,
        "text": start.text,
        "html": start.html,
        "placeholders": list(mails.fields_of(kind)),
    }


def _all(campaign_id: int | None = None) -> dict[str, Any]:
    return {
        "items": [_text(kind, locale, campaign_id) for kind in mails.MAILS for locale in LOCALES]
    }


def _save(kind: str, locale: str, data: dict[str, Any], campaign_id: int | None = None) -> Any:
    service.checked(kind, locale)
    service.save_mail_template(
        g.workspace_id,
        kind,
        locale,
        data["subject"],
        data["text"],
        data["html"],
        campaign_id=campaign_id,
        by=_actor(),
    )
    return _text(kind, locale, campaign_id)


def _reset(kind: str, locale: str, campaign_id: int | None = None) -> Any:
    service.checked(kind, locale)
    service.remove_mail_template(g.workspace_id, kind, locale, campaign_id=campaign_id, by=_actor())
    return ""


def _actor() -> Actor:
    who = caller()
    return Actor(label=who["actor"], ip_hash=who["ip_hash"])


_ROUTE = "/mail-texts/<kind>/<locale>"
_CAMPAIGN = "/campaigns/<campaign_id>/mail-texts"
_NAMED = f"`kind` is {KINDS}; `locale` one of the service's locales. Any other answers 404."


@reads(
    "GET " + _ROUTE,
    "getMailText",
    "Get one e-mail text of the workspace",
    MailTextOut,
    "The e-mail in that locale.",
    description=_NAMED,
)
def get_mail_text(kind: str, locale: str) -> Any:
    return _text(kind, locale)


@reads(
    "GET /mail-texts",
    "listMailTexts",
    "List the workspace's e-mail texts",
    MailTextList,
    "Every e-mail in every locale, e-mail by e-mail (a fixed set, in one answer).",
    description="The wording of the service's own e-mails as the admin's e-mail pages show "
    "it. " + SOURCES + " Without a version of its own a locale shows what the editor starts "
    "from: the workspace's English version, else the service's English text.",
)
def list_mail_texts() -> Any:
    return _all()


@changes(
    "PUT " + _ROUTE,
    "putMailText",
    "Write the workspace's version of an e-mail",
    MailTextOut,
    "The e-mail in that locale, now the workspace's version.",
    body=MailTextIn,
    description="Writes (or rewrites) the version every campaign of the workspace sends in "
    "that locale, unless it has its own. " + PARTS + " A part the sandbox refuses (a "
    "syntax error, a name the e-mail does not have, an empty subject or text) answers 422 "
    "naming it, and nothing changes. Audited as `mail.changed`. " + _NAMED,
)
def put_mail_text(kind: str, locale: str, data: dict[str, Any]) -> Any:
    return _save(kind, locale, data)


@operation(
    "DELETE " + _ROUTE,
    "deleteMailText",
    "Go back to the built-in e-mail",
    EmptySchema,
    "The workspace's version is gone (or there was none).",
    status=204,
    description="The service's own e-mail is sent in that locale again; audited as "
    "`mail.reset` when there was a version. " + _NAMED,
    errors=(401, 404),
)
def delete_mail_text(kind: str, locale: str) -> Any:
    return _reset(kind, locale)


@reads(
    "GET " + _CAMPAIGN + "/<kind>/<locale>",
    "getCampaignMailText",
    "Get one e-mail text of a campaign",
    MailTextOut,
    "The e-mail in that locale, as the campaign sends it.",
    description=_NAMED,
)
def get_campaign_mail_text(campaign_id: str, kind: str, locale: str) -> Any:
    return _text(kind, locale, owned_campaign(campaign_id).id)


@reads(
    "GET " + _CAMPAIGN,
    "listCampaignMailTexts",
    "List a campaign's e-mail texts",
    MailTextList,
    "Every e-mail in every locale, e-mail by e-mail (a fixed set, in one answer).",
    description="What the campaign sends: " + SOURCES + " The parts are the campaign's "
    "own version, else what the workspace's editor shows.",
)
def list_campaign_mail_texts(campaign_id: str) -> Any:
    return _all(owned_campaign(campaign_id).id)


@changes(
    "PUT " + _CAMPAIGN + "/<kind>/<locale>",
    "putCampaignMailText",
    "Write a campaign's own version of an e-mail",
    MailTextOut,
    "The e-mail in that locale, now the campaign's own version.",
    body=MailTextIn,
    description="The campaign sends it instead of the workspace's version in that locale "
    "(`campaign.name` is the campaign's name in the recipient's language). " + PARTS + " "
    "Problems answer 422 as for the workspace's version. Audited as `mail.changed`. " + _NAMED,
)
def put_campaign_mail_text(campaign_id: str, kind: str, locale: str, data: dict[str, Any]) -> Any:
    return _save(kind, locale, data, owned_campaign(campaign_id).id)


@operation(
    "DELETE " + _CAMPAIGN + "/<kind>/<locale>",
    "deleteCampaignMailText",
    "Drop a campaign's own version of an e-mail",
    EmptySchema,
    "The campaign's version is gone (or there was none).",
    status=204,
    description="The campaign sends the workspace's version in that locale again, else the "
    "built-in e-mail; audited as `mail.reset` when there was a version. " + _NAMED,
    errors=(401, 404),
)
def delete_campaign_mail_text(campaign_id: str, kind: str, locale: str) -> Any:
    return _reset(kind, locale, owned_campaign(campaign_id).id)
