"""E-mails to consumers, composed from templates in the recipient's language.

The services never render templates: they take a ``compose`` callback
``(participation, customer, token) -> outbox.Mail`` and queue what it returns. The functions
here are those callbacks. Links are absolute, built on ``PUBLIC_BASE_URL`` (an e-mail has no
request to take a host from).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, format_date, gettext

from referral import slots
from referral.extensions import db
from referral.i18n import campaign_words
from referral.models import Campaign, Customer, Draw, Participation, Trial, Workspace
from referral.services import memo, privacy_requests
from referral.services.advocates import advocate_token, referral_url
from referral.services.mail_templates import custom_mail
from referral.services.outbox import Mail
from referral.services.privacy_footer import with_privacy_link


def recipient_locale(participation: Participation, customer: Customer) -> str:
    """The language to write in: the one they joined in, else their profile's, else ours."""
    return (
        participation.locale
        or customer.locale
        or str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
    )


def _mail(
    template: str,
    campaign_id: int,
    participation: Participation,
    customer: Customer,
    subject: Callable[[Campaign], str],
    links: Callable[[Campaign, str], dict[str, Any]],
    *,
    name: str | None = None,
    privacy_url: str = "",
    footer: bool = True,
) -> Mail:
    """``email/<template>.html`` and its text twin ``email/<template>_text.html`` in the
    recipient's language, about the campaign, greeting the customer by first name.

    ``subject`` words the subject in that language; ``links`` gives the rest of the
    templates' context from the campaign and the public base address. ``name`` and
    ``privacy_url`` stand for the customer's own (a shape with slots, see
    :func:`confirmation`), which then gets its privacy footer once filled (``footer``).
    """
    campaign = db.session.get(Campaign, campaign_id)
    assert campaign is not None
    context = {
        "campaign": campaign,
        "name": (customer.name or "").split(" ")[0] if name is None else name,
        "privacy_url": privacy_url or privacy_requests.page_url(customer.workspace_id, customer.id),
        **links(campaign, current_app.config["PUBLIC_BASE_URL"]),
    }
    locale = recipient_locale(participation, customer)
    with force_locale(locale):
        title = subject(campaign)
        text = render_template(f"email/{template}_text.html", **context)
        html = render_template(
            f"email/{template}.html", subject=title, lang=locale.replace("_", "-"), **context
        )
    mail = Mail(subject=title, text=text, html=html)
    return _finished(mail, customer, locale) if footer else mail


def _reworded(
    mail: str, participation: Participation, customer: Customer, locale: str, links: Any
) -> Mail | None:
    """The workspace's version of ``mail`` (``services.mail_templates``), or None."""
    found = custom_mail(mail, participation, customer, locale, links)
    return None if found is None else _finished(found, customer, locale)


def _finished(mail: Mail, customer: Customer, locale: str) -> Mail:
    """Every mail to a customer leaves here: with the link to their privacy page, also when
    its template or the workspace's rewording left it out."""
    return with_privacy_link(mail, customer.workspace_id, customer.id, locale)


def confirmation(participation: Participation, customer: Customer, token: str) -> Mail:
    """The double opt-in message: a single-use link to ``/confirm/<token>`` (text + HTML).

    It also carries the address of the person's own page, which stays valid after the
    confirmation link is used.
    """
    base = current_app.config["PUBLIC_BASE_URL"]
    links = {
        "confirm_url": f"{base}/confirm/{token}",
        "advocate_url": f"{base}/me/{advocate_token(participation)}",
    }
    locale = recipient_locale(participation, customer)
    reworded = _reworded("confirmation", participation, customer, locale, links)
    if reworded is not None:
        return reworded
    values = {
        **links,
        "referral_url": referral_url(participation),
        "name": (customer.name or "").split(" ")[0],
        "privacy_url": privacy_requests.page_url(customer.workspace_id, customer.id),
    }
    shape = memo.shared(
        ("confirmation_mail", base, locale, participation.campaign_id, bool(values["name"])),
        lambda: _confirmation_shape(participation, customer, bool(values["name"])),
    )
    return _finished(_filled(shape, values), customer, locale)


def _confirmation_shape(participation: Participation, customer: Customer, named: bool) -> Mail:
    """The confirmation mail of the person's campaign and language with a slot for each of
    their own values (:func:`_filled`): it is the same for everyone who joins there, so
    each process renders it once while the campaign is unchanged (``memo.shared``)."""
    marked = {name: slots.slot(name) for name in _PERSONAL}
    urls = {name: slot for name, slot in marked.items() if name.endswith("_url")}
    return _mail(
        "confirmation",
        participation.campaign_id,
        participation,
        customer,
        lambda campaign: gettext(
            "Please confirm your e-mail address for %(campaign)s",
            campaign=campaign_words(campaign).name,
        ),
        lambda _campaign, _base: urls,
        name=marked["name"] if named else "",
        privacy_url=marked["privacy_url"],
        footer=False,
    )


# The values of a mail that differ from person to person (they are not changed by the
# templates: no filter, no test but whether the name is given).
_PERSONAL = ("name", "privacy_url", "confirm_url", "advocate_url", "referral_url")


def _filled(shape: Mail, values: dict[str, str]) -> Mail:
    """``shape`` with each person's values in its slots (``referral.slots``)."""
    return Mail(
        subject=shape.subject,
        text=slots.fill(shape.text, values, html=False),
        html=slots.fill(shape.html, values, html=True),
    )


def draw_winner(draw: Draw, participation: Participation, customer: Customer) -> Mail:
    """A winner's notice. Called only by ``services.draws`` with a stored draw record, so no
    "you have won" exists without a draw behind it; it links to the record's verify page."""

    def links(campaign: Campaign, base: str) -> dict[str, Any]:
        rules = (campaign.settings or {}).get("rules") or {}
        return {
            "verify_url": f"{base}/draws/{draw.id}/verify",
            "advocate_url": f"{base}/me/{advocate_token(participation)}",
            "claim_days": rules.get("claim_days"),
            "sponsor": rules.get("sponsor", ""),
        }

    campaign = db.session.get(Campaign, draw.campaign_id)
    assert campaign is not None
    found = links(campaign, current_app.config["PUBLIC_BASE_URL"])
    reworded = _reworded(
        "draw_winner",
        participation,
        customer,
        recipient_locale(participation, customer),
        {key: "" if value is None else str(value) for key, value in found.items()},
    )
    if reworded is not None:
        return reworded
    return _mail(
        "draw_winner",
        draw.campaign_id,
        participation,
        customer,
        lambda campaign: gettext(
            "You were drawn as a winner of %(campaign)s", campaign=campaign_words(campaign).name
        ),
        links,
    )


def trial_ending(trial: Trial, participation: Participation, customer: Customer) -> Mail:
    """The reminder a few days before a free trial ends (sent once; see services.trials)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    locale = recipient_locale(participation, customer)
    trial_url = f"{base}/trial/{advocate_token(participation)}"
    with force_locale(locale):
        ends_on = format_date(trial.ends_at, "long")
    links = {"trial_url": trial_url, "ends_on": ends_on}
    reworded = _reworded("trial_ending", participation, customer, locale, links)
    if reworded is not None:
        return reworded
    return _mail(
        "trial_ending",
        trial.campaign_id,
        participation,
        customer,
        lambda campaign: gettext(
            "Your free trial of %(campaign)s ends soon", campaign=campaign_words(campaign).name
        ),
        lambda _campaign, _base: {"ends_at": trial.ends_at, "trial_url": trial_url},
    )


def privacy_link(customer: Customer, kind: str, token: str) -> Mail:
    """The single-use link to download (``export``) or erase (``erasure``) the customer's
    data, asked for on the privacy page; written in the customer's language."""
    workspace = db.session.get(Workspace, customer.workspace_id)
    assert workspace is not None
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    locale = customer.locale or str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
    context = {
        "brand": workspace.name,
        "kind": kind,
        "link_url": f"{base}/privacy/link/{token}",
        "hours": int(privacy_requests.LINK_TTL.total_seconds() // 3600),
    }
    with force_locale(locale):
        if kind == privacy_requests.ERASURE:
            title = gettext("Confirm the erasure of your data at %(brand)s", brand=workspace.name)
        else:
            title = gettext("Download your data from %(brand)s", brand=workspace.name)
        text = render_template("email/privacy_link_text.html", **context)
        html = render_template(
            "email/privacy_link.html", subject=title, lang=locale.replace("_", "-"), **context
        )
    return _finished(Mail(subject=title, text=text, html=html), customer, locale)
