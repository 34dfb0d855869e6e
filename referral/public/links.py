"""Referral links (``/r/<code>``), their QR codes and printable cards, and the leaderboard."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, redirect, render_template, request

from referral import qr
from referral.public import bp
from referral.public.fastpath import follow_link
from referral.services import advocates, clicks, joining
from referral.services.clicks import LinkTarget

QR_MAX_AGE = 24 * 3600
QR_CHANNELS = ("qr", "wechat")  # a QR code shown for WeChat is counted as a WeChat share


def _target(code: str) -> LinkTarget:
    """:raise 404: for an unknown code or a draft campaign's code."""
    target = clicks.resolve_code(code)
    if target is None or not target.public:
        abort(404)
    return target


@bp.route("/r/<code>")
def referral_link(code: str) -> Any:
    """A referral link or QR scan: log the click, remember the first touch, go to the
    campaign's own landing page. Valid codes are normally answered by the WSGI fast path
    (``public.fastpath``) before reaching here; this view gives the same answer when that
    layer is not installed, and the 404 page for unknown codes."""
    target = _target(code)
    followed = follow_link(
        target, request.args, request.cookies, request.remote_addr, request.root_path
    )
    response = redirect(followed.location, 302)
    response.headers["Cache-Control"] = "no-store"
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    for name, value, max_age in followed.cookies:
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, samesite="Lax", secure=secure
        )
    return response


def qr_url(code: str, channel: str = "qr") -> str:
    """What a QR code encodes: the referral link, marked as scanned."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/r/{code}?ch={channel}"


def _image(code: str, render: Any, mimetype: str) -> Response:
    _target(code)
    channel = request.args.get("ch", "qr")
    data = render(qr_url(code, channel if channel in QR_CHANNELS else "qr"))
    response = Response(data, mimetype=mimetype)
    response.set_etag(qr.etag(data))
    response.cache_control.public = True
    response.cache_control.max_age = QR_MAX_AGE
    return response.make_conditional(request)


@bp.route("/q/<code>.png")
def qr_png(code: str) -> Response:
    return _image(code, qr.png, "image/png")


@bp.route("/q/<code>.svg")
def qr_svg(code: str) -> Response:
    return _image(code, qr.svg, "image/svg+xml")


@bp.route("/q/<code>/card")
def qr_card(code: str) -> Any:
    """A printable card: the campaign's name, a big QR code and the short link."""
    target = _target(code)
    base = current_app.config["PUBLIC_BASE_URL"]
    return render_template(
        "public/card.html",
        target=target,
        short_url=f"{base.split('://', 1)[-1]}/r/{code}",
    )


@bp.route("/c/<slug>/leaderboard")
def leaderboard(slug: str) -> Any:
    """The top advocates, names masked, with the tie-break rule written on the page."""
    campaign = joining.public_campaign(slug)
    board = advocates.leaderboard(campaign, limit=20)
    return render_template("public/leaderboard.html", campaign=campaign, board=board)
