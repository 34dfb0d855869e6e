"""E-mails to consumers, composed from templates in the recipient's language.

The services never render templates: they take a ``compose`` callback
``(participation, customer, token) -> outbox.Mail`` and queue what it returns. The functions
here are those callbacks. Links are absolute, built on ``PUBLIC_BASE_URL`` (an e-mail has no
request to take a host from).
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from referral.extensions import db
from referral.models import Campaign, Customer, Draw, Participation, Trial
from referral.services.advocates import advocate_token, referral_url
from referral.services.outbox import Mail


def recipient_locale(participation: Participation, customer: Customer) -> str:
    """The language to write in: the one they joined in, else their profile's, else ours."""
    return (
        participation.locale
        or customer.locale
        or str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
    )


def confirmation(participation: Participation, customer: Customer, token: str) -> Mail:
    """The double opt-in message: a single-use link to ``/confirm/<token>`` (text + HTML).

    It also carries the address of the person's own page, which stays valid after the
    confirmation link is used.
    """
    campaign = db.session.get(Campaign, participation.campaign_id)
    assert campaign is not None
    base = current_app.config["PUBLIC_BASE_URL"]
    context = {
        "campaign": campaign,
        "name": (customer.name or "").split(" ")[0],
        "confirm_url": f"{base}/confirm/{token}",
        "advocate_url": f"{base}/me/{advocate_token(participation)}",
        "referral_url": referral_url(participation),
    }
    locale = recipient_locale(participation, customer)
    with force_locale(locale):
        subject = gettext(
            "Please confirm your e-mail address for %(campaign)s", campaign=campaign.name
        )
        text = render_template("email/confirmation_text.html", **context)
        html = render_template(
            "email/confirmation.html", subject=subject, lang=locale.replace("_", "-"), **context
        )
    return Mail(subject=subject, text=text, html=html)


def draw_winner(draw: Draw, participation: Participation, customer: Customer) -> Mail:
    """A winner's notice. Called only by ``services.draws`` with a stored draw record, so no
    "you have won" exists without a draw behind it; it links to the record's verify page."""
    campaign = db.session.get(Campaign, draw.campaign_id)
    assert campaign is not None
    base = current_app.config["PUBLIC_BASE_URL"]
    rules = (campaign.settings or {}).get("rules") or {}
    context = {
        "campaign": campaign,
        "name": (customer.name or "").split(" ")[0],
        "verify_url": f"{base}/draws/{draw.id}/verify",
        "advocate_url": f"{base}/me/{advocate_token(participation)}",
        "claim_days": rules.get("claim_days"),
        "sponsor": rules.get("sponsor", ""),
    }
    locale = recipient_locale(participation, customer)
    with force_locale(locale):
        subject = gettext("You were drawn as a winner of %(campaign)s", campaign=campaign.name)
        text = render_template("email/draw_winner_text.html", **context)
        html = render_template(
            "email/draw_winner.html", subject=subject, lang=locale.replace("_", "-"), **context
        )
    return Mail(subject=subject, text=text, html=html)


def trial_ending(trial: Trial, participation: Participation, customer: Customer) -> Mail:
    """The reminder a few days before a free trial ends (sent once; see services.trials)."""
    campaign = db.session.get(Campaign, trial.campaign_id)
    assert campaign is not None
    base = current_app.config["PUBLIC_BASE_URL"]
    context = {
        "campaign": campaign,
        "name": (customer.name or "").split(" ")[0],
        "ends_at": trial.ends_at,
        "trial_url": f"{base}/trial/{advocate_token(participation)}",
    }
    locale = recipient_locale(participation, customer)
    with force_locale(locale):
        subject = gettext("Your free trial of %(campaign)s ends soon", campaign=campaign.name)
        text = render_template("email/trial_ending_text.html", **context)
        html = render_template(
            "email/trial_ending.html", subject=subject, lang=locale.replace("_", "-"), **context
        )
    return Mail(subject=subject, text=text, html=html)
