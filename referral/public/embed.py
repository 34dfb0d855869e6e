"""Widgets for other sites: the embed script (``/w/v1.js``) and the framed widgets it shows
(``/embed/<slug>/<kind>``: join, share, me, leaderboard), and a development page that shows
all four (``/embed/demo``).

Only a widget's answers may be framed, and only by the service itself and the sites its
campaign allows (``Campaign.embed_origins``): ``headers.embed_framing`` gives them that
``frame-ancestors``; every other page keeps ``'none'``. A widget talks to the page around it
by ``postMessage`` to that page's origin only when the campaign allows it
(``data-parent-origin``, read by ``static/js/embed.js``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext

from referral import widget
from referral.demo.seed import DEMO_WORKSPACE
from referral.domain import embeds as rules
from referral.errors import localized_message
from referral.extensions import configured_limit, csrf, limiter
from referral.headers import SCRIPT_CACHE, allow_framing
from referral.models import Campaign, Participation
from referral.public import bp, embed_join
from referral.public.join import _campaign_key, _ip_key
from referral.services import advocates, embeds, joining, showcase


@bp.route(widget.PATH)
def widget_script() -> Any:
    """The embed script, the same bytes for everyone: cached a year, readable from any
    origin (``integrity=`` needs CORS), conditional on its hash."""
    response = current_app.response_class(widget.script_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = SCRIPT_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.set_etag(widget.integrity())
    return response.make_conditional(request)


def _parent_origin(campaign: Campaign) -> str:
    """The origin of the page around the widget, when the campaign allows it (or it is this
    service's own page); "" otherwise, and then the widget tells that page nothing."""
    claimed = rules.origin_of(request.args.get("origin") or "")
    own = rules.origin_of(request.host_url)
    allowed = claimed is not None and (claimed == own or claimed in campaign.embed_origins)
    return claimed if allowed and claimed else ""


def _page(template: str, campaign: Campaign, status: int = 200, **context: Any) -> Any:
    page = render_template(
        f"public/embed/{template}.html",
        campaign=campaign,
        parent_origin=_parent_origin(campaign),
        **context,
    )
    return page, status


def _participant(campaign: Campaign) -> Participation | Any:
    """The participant of the widget's token, or the page that says why there is none."""
    token = request.args.get("token")
    if not token:
        message = gettext("Sign in on this site to see your own referrals.")
        return _page("refused", campaign, 401, message=message)
    try:
        return embeds.participant_of_token(campaign, token)
    except embeds.EmbedTokenRefused as error:
        return _page("refused", campaign, error.status, message=localized_message(error))


def _join(campaign: Campaign, kind: str) -> Any:
    if not joining.is_open(campaign):
        return _page("closed", campaign, 409 if request.method == "POST" else 200)
    if request.method != "POST":
        return _page("join", campaign, form=embed_join.blank_form(campaign), kind=kind)
    outcome = embed_join.join(campaign)
    if outcome.closed:
        return _page("closed", campaign, outcome.status)
    if not outcome.joined:
        context = {"form": outcome.form, "notice": outcome.notice, "kind": kind}
        return _page("join", campaign, outcome.status, **context)
    participation = outcome.participation
    url = advocates.referral_url(participation) if participation is not None else None
    return _page("joined", campaign, participation=participation, referral_url=url)


@bp.route("/embed/<slug>/<kind>", methods=["GET", "POST"])
@csrf.exempt  # the form carries a signed stamp instead (public/embed_join.py)
@limiter.limit(configured_limit("JOIN_RATE_LIMIT"), key_func=_ip_key, methods=["POST"])
@limiter.limit(
    configured_limit("JOIN_CAMPAIGN_RATE_LIMIT"), key_func=_campaign_key, methods=["POST"]
)
def embed(slug: str, kind: str) -> Any:
    """A campaign's widget of ``kind``: ``join`` (the form, then the new participant's link),
    ``share`` (the link of the token's participant, or the form without a token), ``me``
    (the token's participant's figures) or ``leaderboard``.

    :raise NotFound: unknown kind or slug, or a draft (404).
    """
    allow_framing("'self'")
    if kind not in rules.KINDS:
        abort(404)
    campaign = joining.public_campaign(slug)
    allow_framing(rules.frame_ancestors(campaign.embed_origins))
    if request.method == "POST" and kind not in ("join", "share"):
        abort(405)
    if kind == "leaderboard":
        board = advocates.leaderboard(campaign, limit=10)
        return _page("leaderboard", campaign, board=board)
    if kind == "join" or (kind == "share" and not request.args.get("token")):
        return _join(campaign, kind)
    found = _participant(campaign)
    if not isinstance(found, Participation):
        return found
    if kind == "share":
        url = advocates.referral_url(found)
        return _page("share", campaign, participation=found, referral_url=url)
    view = {k: v for k, v in advocates.advocate_view(found).items() if k != "campaign"}
    return _page("me", campaign, **view)


@bp.route("/embed/demo")
def embed_demo() -> Any:
    """The four widgets of the demo's referral campaign on one page, as another site would
    show them; the ``me`` widget with a token for one of its advocates. Development only."""
    if current_app.config.get("REFERRAL_ENV") != "development":
        abort(404)
    campaign = showcase.embed_demo_campaign(DEMO_WORKSPACE)
    if campaign is None:
        abort(404)
    advocate = showcase.top_advocate(campaign)
    token = embeds.issue_token(campaign, {"participant_id": str(advocate.id)}) if advocate else None
    return render_template(
        "public/embed/demo.html",
        campaign=campaign,
        script_url=widget.PATH,
        integrity=widget.integrity(),
        token=token.token if token else "",
    )
