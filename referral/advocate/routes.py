from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import format_currency, format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l

from referral.advocate import bp
from referral.models import LedgerEntry
from referral.services import advocates, campaign_rows, lottery, privacy_requests, surveys
from referral.services.advocates import RewardWhy

# Why a friend did or did not count (keys from services.advocates._friend).
REASON_NAMES = {
    "counted": _l("Counted"),
    "waiting_for_confirmation": _l("Waiting for them to confirm their e-mail"),
    "under_review": _l("Under review"),
    "not_eligible": _l("Not eligible"),
}
# The keys of domain.gamification.BADGES.
BADGE_NAMES = {
    "first_friend": _l("First friend"),
    "connector": _l("Connector"),
    "ambassador": _l("Ambassador"),
    "champion": _l("Champion"),
    "legend": _l("Legend"),
}
# What a friend or the advocate did that paid a reward (the kinds of domain.rewards).
EVENT_WORDS = {
    "purchase": _l("a purchase"),
    "trial_converted": _l("a free trial turns into a paid plan"),
    "survey_completed": _l("a completed survey"),
    "lottery_entered": _l("an entry to the prize draw"),
}
LEDGER_STATUS_NAMES = {
    "pending": _l("pending"),
    "approved": _l("approved"),
    "void": _l("cancelled"),
}


def amount_text(entry: LedgerEntry) -> str:
    """A reward's amount for people: cash in its currency (amounts are minor units)."""
    if entry.reward == "cash" and entry.currency:
        return format_currency(entry.amount / 100, entry.currency)
    return format_decimal(entry.amount)


def reason_text(why: RewardWhy | None, brand: str) -> str:
    """Why a reward was paid, in the reader's words ("friend Anna B. confirmed")."""
    if why is None:
        return ""
    if why.kind == "gift":
        return gettext("a gift from %(brand)s", brand=brand)
    if why.kind == "milestone":
        return ngettext(
            "milestone of %(num)s friend", "milestone of %(num)s friends", why.milestone
        )
    if why.kind == "deeper":
        return gettext("level %(level)s referral", level=why.level)
    signup = why.event == "signup_confirmed"
    event = str(EVENT_WORDS.get(why.event, why.event))
    if why.kind == "own":
        return gettext("for your own sign-up") if signup else event
    if signup:
        return gettext("friend %(name)s confirmed", name=why.name)
    return gettext("%(name)s: %(event)s", name=why.name, event=event)


def _survey_url(participation: Any) -> str | None:
    """In a survey campaign, the participant's own survey address (until answered)."""
    token = surveys.link_token(participation)
    return url_for("public.survey", token=token) if token else None


def _privacy_url(campaign: Any, participation: Any) -> str | None:
    """The privacy page of the advocate's workspace, their address filled in."""
    if campaign is None:
        return None
    token = privacy_requests.page_token(campaign.workspace_id, participation.customer_id)
    return url_for("public.privacy", token=token)


@bp.route("/<token>")
def page(token: str) -> Any:
    """The advocate's page: link, QR, share buttons, clicks, friends and why each counted,
    rewards, badges, rank and the next milestone.

    :raise NotFound: for a forged or altered token (404).
    """
    participation = advocates.from_token(token[:200])
    view = advocates.advocate_view(participation)
    brand = campaign_rows.brand_name(view["campaign"]) if view["campaign"] else ""
    reasons = view["reward_reasons"]
    page = render_template(
        "advocate/page.html",
        reason_names=REASON_NAMES,
        badge_names=BADGE_NAMES,
        ledger_status_names=LEDGER_STATUS_NAMES,
        amounts={entry.id: amount_text(entry) for entry in view["rewards"]},
        why_paid={entry.id: reason_text(reasons.get(entry.id), brand) for entry in view["rewards"]},
        survey_url=_survey_url(participation),
        lottery_entry=lottery.entry_of(participation),
        privacy_url=_privacy_url(view["campaign"], participation),
        **view,
    )
    response = current_app.make_response(page)
    # The address is a key to a personal page: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response
