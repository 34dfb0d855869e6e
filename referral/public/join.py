"""The landing page and its join form, the "check your inbox" page and e-mail confirmation.

Sign-up forms attract bots, so the form has four guards before anything is stored: CSRF,
a honeypot field (a bot that fills it is told "check your inbox" and nothing is stored),
a minimum time between showing and sending the form, and rate limits per hashed IP
address and per campaign.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale, gettext
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer

from referral import emails, slots
from referral.domain.attribution import SELF_REFERRAL
from referral.domain.errors import Conflict, ValidationFailed
from referral.errors import localize, localized_errors
from referral.extensions import configured_limit, limiter
from referral.i18n import campaign_words
from referral.models import Campaign, Participation
from referral.models.base import utcnow
from referral.public import bp
from referral.public.cookies import Touch, Touches, keep_new_visitor, visitor_id
from referral.public.forms import OTHER_REGION, JoinForm, join_form
from referral.security import hash_ip
from referral.services import (
    advocates,
    campaign_rows,
    clicks,
    confirmation,
    draws,
    joining,
    lottery,
    memo,
    privacy_requests,
    surveys,
)

log = logging.getLogger("referral.public")

STAMP_SALT = "join-form-started"
MIN_SECONDS = 2.0  # people need longer than this to type an address and tick a box
MAX_FORM_AGE = 24 * 3600

bp.after_request(keep_new_visitor)


# --- guards ----------------------------------------------------------------------------------


def _ip_key() -> str:
    return f"join-ip:{hash_ip(request.remote_addr) or '-'}"


def _campaign_key() -> str:
    return f"join-campaign:{(request.view_args or {}).get('slug', '')}"


def _stamper() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=STAMP_SALT)


def form_stamp(campaign_id: int, at: float | None = None) -> str:
    """A signed record of when the form of ``campaign_id`` was shown (milliseconds)."""
    moment = time.time() if at is None else at
    return _stamper().dumps([campaign_id, int(moment * 1000)])


def stamp_age(campaign_id: int, stamp: str | None) -> float | None:
    """Seconds since the form was shown; None for a missing, forged or day-old stamp."""
    try:
        shown_for, millis = _stamper().loads(stamp or "")
        age = time.time() - float(millis) / 1000
    except (BadSignature, TypeError, ValueError):
        return None
    return age if shown_for == campaign_id and age <= MAX_FORM_AGE else None


def _min_seconds() -> float:
    return float(current_app.config.get("JOIN_MIN_SECONDS", MIN_SECONDS))


def consent_for(campaign: Campaign) -> tuple[str, str]:
    """The consent sentence exactly as the page shows it, and its version.

    It is written wholly in the language of the campaign's words on the page
    (``i18n.campaign_words``): the campaign's own sentence in that language
    (``settings.consent_text`` or a translation's), otherwise the standard sentence in that
    language around the campaign's name in that language. Its version names the language
    (``domain.campaign_content``).
    """
    content = campaign_words(campaign)
    if content.consent_text:
        return content.consent_text, content.consent_version
    with force_locale(content.locale):
        text = gettext(
            "I agree that %(brand)s may e-mail me about %(campaign)s and keep my details for "
            "it. I can withdraw my consent at any time.",
            brand=campaign_rows.brand_name(campaign),
            campaign=content.name,
        )
    return text, content.consent_version


# --- pages -----------------------------------------------------------------------------------


def _landing(
    campaign: Campaign, form: JoinForm, status: int = 200, notice: str = "", inviter: str = ""
) -> Any:
    form.consent.label.text = consent_for(campaign)[0]
    page = render_template(
        "public/campaign.html",
        campaign=campaign,
        form=form,
        notice=notice,
        inviter=inviter,
        privacy_url=url_for(".privacy", token=privacy_requests.page_token(campaign.workspace_id)),
    )
    return page, status


def _landing_page(campaign: Campaign, code: str, inviter: str) -> str:
    """The landing page with an empty form, from its shape (:func:`_shaped`): the same for
    every visitor of the campaign in one language but for the form's token, time stamp and
    referral code, the inviter's name and the privacy page's address."""
    values = {
        "csrf": generate_csrf(),
        "started": form_stamp(campaign.id),
        "ref": code,
        "inviter": inviter,
        "privacy_url": url_for(
            ".privacy", token=privacy_requests.page_token(campaign.workspace_id)
        ),
    }
    if "_flashes" in session:
        form = _form(campaign, formdata=None)
        form.started.data, form.ref.data = values["started"], code
        return str(_landing(campaign, form, inviter=inviter)[0])
    return _shaped(
        ("landing", campaign.id, bool(inviter)),
        lambda: _landing_shape(campaign, bool(inviter)),
        values,
    )


def _shaped(key: tuple[Any, ...], render: Callable[[], str], values: dict[str, str]) -> str:
    """A public page from its shape (``referral.slots``), rendered by ``render`` once per
    ``key`` and language and kept while the configuration is unchanged (``memo.shared``),
    filled with ``values`` and the address the language switch returns to (the slot
    ``next``, which ``render`` passes as ``language_next``). Only for a visitor with no
    message waiting (a flash), whose page a shape cannot show."""
    here = url_for("public.set_language", code="en", next=request.full_path)
    filled = {**values, "next": here.partition("?next=")[2]}
    key = (*key, str(get_locale() or "en"), request.script_root)
    return slots.fill(memo.shared(key, render), filled, html=True)


def _landing_shape(campaign: Campaign, invited: bool) -> str:
    form = _form(campaign, formdata=None)
    form.csrf_token.current_token = slots.slot("csrf")
    form.started.data, form.ref.data = slots.slot("started"), slots.slot("ref")
    form.consent.label.text = consent_for(campaign)[0]
    return render_template(
        "public/campaign.html",
        campaign=campaign,
        form=form,
        notice="",
        inviter=slots.slot("inviter") if invited else "",
        privacy_url=slots.slot("privacy_url"),
        language_next=slots.slot("next"),
    )


def _closed(campaign: Campaign, status: int = 200) -> Any:
    upcoming = campaign.status == "live" and campaign.starts_at and utcnow() < campaign.starts_at
    draw = draws.draw_of(campaign) if campaign.kind == "lottery" else None
    page = render_template("public/closed.html", campaign=campaign, upcoming=upcoming, draw=draw)
    return page, status


def _touch_from_query(campaign: Campaign) -> tuple[Touches, str]:
    """``?ref=<code>`` on the landing page counts as a touch (first touch still wins)."""
    touches = Touches.from_request()
    target = clicks.resolve_code(request.args.get("ref"))
    if target is None or target.campaign_id != campaign.id:
        return touches, ""
    channel = clicks.clean_channel(request.args.get("ch"))
    utm = clicks.clean_utm(request.args)
    clicks.record_click(target, channel, utm, request.remote_addr, visitor_id())
    touches.add(campaign.id, Touch(target.code, utcnow(), channel, utm), campaign.attribution_days)
    return touches, target.code


def _inviter(campaign: Campaign, touches: Touches) -> str:
    """The public name of the person whose link counts for this visitor (the first touch),
    or "" when there is none or they gave no name."""
    touch = touches.get(campaign.id)
    if touch is None or touch.expired(campaign.attribution_days, utcnow()):
        return ""
    target = clicks.resolve_code(touch.code)
    if target is None or target.campaign_id != campaign.id:
        return ""
    return advocates.inviter_name(target.participation_id) or ""


@bp.route("/c/<slug>", methods=["GET", "POST"])
@limiter.limit(configured_limit("JOIN_RATE_LIMIT"), key_func=_ip_key, methods=["POST"])
@limiter.limit(
    configured_limit("JOIN_CAMPAIGN_RATE_LIMIT"), key_func=_campaign_key, methods=["POST"]
)
def campaign(slug: str) -> Any:
    """A campaign's landing page: the join form while it is open, a friendly note otherwise.

    :raise NotFound: unknown slug or a draft (404).
    """
    found = joining.public_campaign(slug)
    if not joining.is_open(found):
        return _closed(found, 409 if request.method == "POST" else 200)
    if request.method == "POST":
        return _join(found)
    touches, code = _touch_from_query(found)
    visitor_id()  # hands out the visitor cookie before the person joins
    inviter = _inviter(found, touches)
    response = current_app.make_response((_landing_page(found, code, inviter), 200))
    touches.save(response, found.attribution_days)
    if inviter:  # names a person: not for shared caches
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _join_request(campaign: Campaign, form: JoinForm) -> joining.JoinRequest:
    text, version = consent_for(campaign)
    touch = Touches.from_request().get(campaign.id)
    if touch is None and form.ref.data:  # no cookie: the code came with the form, now
        touch = Touch(form.ref.data.strip()[:32], utcnow())
        touched_at = None
    else:
        touched_at = touch.at if touch else None
    return joining.JoinRequest(
        email=form.email.data or "",
        name=(form.name.data or "").strip(),
        locale=str(get_locale() or "en"),
        referral_code=touch.code if touch else None,
        touched_at=touched_at,
        channel=touch.channel if touch else "direct",
        utm=dict(touch.utm) if touch else {},
        consent_text=text,
        consent_version=version,
    )


def _visitor() -> joining.Visitor:
    return joining.Visitor(
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:500] or None,
        visitor_id=visitor_id(),
        page=request.base_url[:500],
    )


def _show_errors(form: JoinForm, error: ValidationFailed) -> str:
    """Put the service's messages next to their fields; return what fits no field."""
    rest = []
    for name, messages in localized_errors(error).items():
        target = getattr(form, name, None) if name in form else None
        if target is None:
            rest.extend(messages)
        else:
            target.errors = [*target.errors, *messages]
    return " ".join(rest)


def _form(campaign: Campaign, **kwargs: Any) -> JoinForm:
    """The join form; a prize draw's also asks what its eligibility depends on."""
    if campaign.kind != "lottery":
        return join_form(None, **kwargs)
    return join_form(list(lottery.official_rules(campaign).get("regions") or []), **kwargs)


def _region(value: str | None) -> str | None:
    return None if value in (None, "", OTHER_REGION) else value


def _join(campaign: Campaign) -> Any:
    form = _form(campaign)
    if form.website.data:  # the honeypot: look like success, store nothing
        return redirect(url_for(".joined", slug=campaign.slug), 303)
    age = stamp_age(campaign.id, form.started.data)
    if age is None:
        form.started.data = form_stamp(campaign.id)
        return _landing(campaign, form, 422, notice=gettext("The form expired. Please try again."))
    if age < _min_seconds():  # keeps the first stamp: sending again in a moment works
        notice = gettext("That was very quick! Please check your details and send the form again.")
        return _landing(campaign, form, 422, notice=notice)
    if not form.validate():
        return _landing(campaign, form, 422)
    lottery_form = campaign.kind == "lottery"  # asks the age and region; the date is not kept
    done = url_for(".joined", slug=campaign.slug)  # now: the commit expires the campaign
    try:
        joining.join_from_page(
            campaign,
            _join_request(campaign, form),
            _visitor(),
            emails.confirmation,
            birth_date=form.birth_date.data if lottery_form else None,
            region=_region(form.region.data) if lottery_form else None,
        )
    except ValidationFailed as error:
        return _landing(campaign, form, 422, notice=_show_errors(form, error))
    except Conflict:
        return _closed(campaign, 409)
    # The confirmation mail is in the outbox; its commit woke the worker (services.wakeups).
    return redirect(done, 303)


@bp.route("/c/<slug>/joined")
def joined(slug: str) -> Any:
    """ "Check your inbox", the same for a new address, a known one, and a caught bot."""
    found = joining.public_campaign(slug)
    if "_flashes" in session:
        return render_template("public/joined.html", campaign=found)
    render = partial(
        render_template, "public/joined.html", campaign=found, language_next=slots.slot("next")
    )
    return _shaped(("joined", found.id), render, {})


# --- confirmation ----------------------------------------------------------------------------


def thank_you(participation: Participation, status: int = 200) -> Any:
    """The thank-you page after a confirmation, from its shape (:func:`_shaped`): the same
    for everyone confirmed in the campaign and language but for their links and code."""
    campaign = campaign_rows.campaign_by_id(participation.campaign_id)
    referral_url = advocates.referral_url(participation)
    values = {
        "referral_url": referral_url,
        "shared_url": quote(referral_url, safe=""),
        "code": participation.referral_code,
        "advocate_url": url_for("advocate.page", token=advocates.advocate_token(participation)),
        "survey_url": _survey_url(participation) or "",
        "kind_url": _kind_url(participation, campaign) or "",
    }
    if "_flashes" in session:
        page = _thanks(campaign, participation, values)
    else:
        self_referral = participation.referral_status == SELF_REFERRAL
        key = (
            "thanks",
            campaign.id,
            self_referral,
            bool(values["survey_url"]),
            bool(values["kind_url"]),
        )
        page = _shaped(key, lambda: _thanks_shape(campaign, self_referral, values), values)
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


def _thanks(campaign: Campaign, participation: Any, values: dict[str, str], **extra: Any) -> str:
    return render_template(
        "public/thanks.html",
        campaign=campaign,
        participation=participation,
        referral_url=values["referral_url"],
        advocate_url=values["advocate_url"],
        survey_url=values["survey_url"] or None,
        kind_url=values["kind_url"] or None,
        **extra,
    )


def _thanks_shape(campaign: Campaign, self_referral: bool, values: dict[str, str]) -> str:
    """The thank-you page with slots: the referral link as it is (``referral_url``) and,
    inside the share buttons' addresses, URL-encoded (``shared_url``)."""
    marked = {name: slots.slot(name) if value else "" for name, value in values.items()}
    stand_in = SimpleNamespace(
        referral_code=marked["code"],
        referral_status=SELF_REFERRAL if self_referral else "counted",
    )
    return _thanks(
        campaign,
        stand_in,
        marked,
        shared_url=marked["shared_url"],
        language_next=slots.slot("next"),
    )


def _kind_url(participation: Participation, campaign: Campaign | None) -> str | None:
    """The person's trial page or game page, in campaigns of those kinds."""
    views = {"trial": ".trial_status", "instant_win": ".play"}
    view = views.get(campaign.kind) if campaign is not None else None
    return url_for(view, token=advocates.advocate_token(participation)) if view else None


def _survey_url(participation: Participation) -> str | None:
    """In a survey campaign, the participant's own survey address (until answered)."""
    token = surveys.link_token(participation)
    return url_for(".survey", token=token) if token else None


def _confirm_key() -> str:
    return f"confirm-ip:{hash_ip(request.remote_addr) or '-'}"


@bp.route("/confirm/<token>")
@limiter.limit(
    configured_limit("CONFIRM_RATE_LIMIT"),
    key_func=_confirm_key,
    deduct_when=lambda response: response.status_code == 404,
)
def confirm(token: str) -> Any:
    """The e-mailed link: confirms once; opened again it shows the same thank-you page.

    :raise NotFound: unknown token (404).
    """
    try:
        participation, _first_use = confirmation.confirm_by_token(token[:200])
    except confirmation.LinkExpired as error:
        page = render_template(
            "public/link_expired.html", campaign=error.campaign, message=localize(error.summary)
        )
        return page, 410
    return thank_you(participation)
