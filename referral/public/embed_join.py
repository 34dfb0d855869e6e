"""The join widget: the landing page's form in a frame on another site.

In a frame on another site the browser keeps this service's cookies to itself (they are
``SameSite=Lax``, and on plain-HTTP development servers ``SameSite=None`` cannot be set, as it
needs ``Secure``), so nothing here depends on them: the form carries a signed stamp of its
own (:func:`stamp`) instead of the session's CSRF token, and the referral code and ``utm_*``
the site passed in travel inside that stamp instead of the attribution cookie. The stamp is
signed under its own salt, names the campaign, expires after a day and is refused when sent
too quickly, as the landing page's is; the honeypot and the rate limits are the landing
page's too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request
from flask_babel import get_locale, gettext
from itsdangerous import BadSignature, URLSafeSerializer

from referral import emails
from referral.domain.errors import Conflict, ValidationFailed
from referral.models import Campaign
from referral.public.cookies import visitor_id
from referral.public.forms import JoinForm, join_form
from referral.public.join import MAX_FORM_AGE, _min_seconds, _region, _show_errors, consent_for
from referral.public.join import _visitor as visitor
from referral.services import clicks, joining, lottery

SALT = "embed-join-form"


@dataclass(frozen=True)
class Stamp:
    """What the form's signed stamp holds: when it was shown and the touch it came with."""

    at: float
    code: str = ""
    channel: str = "link"
    utm: dict[str, str] = field(default_factory=dict)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def stamp(campaign: Campaign, code: str, channel: str, utm: dict[str, str]) -> str:
    """The signed stamp of the form of ``campaign`` shown now, with the site's touch."""
    return _signer().dumps([campaign.id, int(time.time() * 1000), code, channel, utm])


def read_stamp(campaign: Campaign, raw: str | None) -> Stamp | None:
    """The stamp sent with the form, or None for a missing, forged, foreign or stale one."""
    try:
        shown_for, millis, code, channel, utm = _signer().loads(raw or "")
        at = float(millis) / 1000
    except (BadSignature, TypeError, ValueError):
        return None
    if shown_for != campaign.id or time.time() - at > MAX_FORM_AGE or not isinstance(utm, dict):
        return None
    return Stamp(
        at, str(code or ""), str(channel or "link"), {str(k): str(v) for k, v in utm.items()}
    )


def touch_from_query(campaign: Campaign) -> tuple[str, str, dict[str, str]]:
    """The referral code (when it is one of this campaign's), channel and ``utm_*`` the site
    passed in; a code counts as a click on its link, as on the landing page."""
    utm = clicks.clean_utm(request.args)
    channel = clicks.clean_channel(request.args.get("ch"))
    target = clicks.resolve_code(request.args.get("ref"))
    if target is None or target.campaign_id != campaign.id:
        return "", channel, utm
    if request.method == "GET":
        clicks.record_click(target, channel, utm, request.remote_addr, visitor_id())
    return target.code, channel, utm


def new_form(campaign: Campaign, **kwargs: Any) -> JoinForm:
    """The join form without the session's CSRF token (see the module's note)."""
    regions = None
    if campaign.kind == "lottery":
        regions = list(lottery.official_rules(campaign).get("regions") or [])
    form = join_form(regions, meta={"csrf": False}, **kwargs)
    form.consent.label.text = consent_for(campaign)[0]
    return form


def blank_form(campaign: Campaign) -> JoinForm:
    form = new_form(campaign, formdata=None)
    code, channel, utm = touch_from_query(campaign)
    form.started.data = stamp(campaign, code, channel, utm)
    return form


@dataclass
class Outcome:
    """What became of a sent form: shown again (``notice``, ``status``) or ``joined``, with
    the new participation when the address was new."""

    form: JoinForm
    status: int = 200
    notice: str = ""
    joined: bool = False
    participation: Any = None
    closed: bool = False


def _request(campaign: Campaign, form: JoinForm, found: Stamp) -> joining.JoinRequest:
    text, version = consent_for(campaign)
    return joining.JoinRequest(
        email=form.email.data or "",
        name=(form.name.data or "").strip(),
        locale=str(get_locale() or "en"),
        referral_code=found.code or None,
        touched_at=datetime.fromtimestamp(found.at, UTC) if found.code else None,
        channel=found.channel if found.code else "direct",
        utm=found.utm,
        consent_text=text,
        consent_version=version,
    )


def join(campaign: Campaign) -> Outcome:
    """Check the sent form as the landing page does, then join through the same service."""
    form = new_form(campaign)
    if form.website.data:  # the honeypot: look like success, store nothing
        return Outcome(form, joined=True)
    found = read_stamp(campaign, form.started.data)
    if found is None:
        code, channel, utm = touch_from_query(campaign)
        form.started.data = stamp(campaign, code, channel, utm)
        return Outcome(form, 422, gettext("The form expired. Please try again."))
    if time.time() - found.at < _min_seconds():
        notice = gettext("That was very quick! Please check your details and send the form again.")
        return Outcome(form, 422, notice)
    if not form.validate():
        return Outcome(form, 422)
    lottery_form = campaign.kind == "lottery"
    try:
        result = joining.join_from_page(
            campaign,
            _request(campaign, form, found),
            visitor(),
            emails.confirmation,
            birth_date=form.birth_date.data if lottery_form else None,
            region=_region(form.region.data) if lottery_form else None,
        )
    except ValidationFailed as error:
        return Outcome(form, 422, _show_errors(form, error))
    except Conflict:
        return Outcome(form, 409, closed=True)
    return Outcome(
        form, joined=True, participation=result.participation if result.created else None
    )
