"""The instant-win game page: a wheel on the phone, the odds, and the outcome of each play.

The outcome is decided by the server and stored before anything is shown; the wheel only
turns to what the stored play says. Without JavaScript the form posts and the page shows
the stored outcome.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from referral.domain import instant_win as game
from referral.domain.errors import N_, Conflict, NotFound
from referral.errors import localized_message
from referral.extensions import configured_limit, limiter
from referral.models import Campaign, InstantWinPrize, Participation
from referral.public import bp
from referral.security import hash_ip
from referral.services import advocates
from referral.services import instant_win as service


def _player(token: str) -> tuple[Participation, Campaign]:
    """:raise NotFound: a forged link, or a campaign without a game."""
    person = advocates.from_token(token[:300])
    campaign = person.campaign
    if campaign is None or campaign.kind != "instant_win":
        raise NotFound(N_("This link is not valid."))
    return person, campaign


def _segments(prizes: list[InstantWinPrize]) -> list[InstantWinPrize | None]:
    """The wheel: each prize followed by a "no prize" segment (at least two segments).
    Segments are equal in size; the odds are listed next to the wheel."""
    wheel: list[InstantWinPrize | None] = []
    for prize in prizes:
        wheel += [prize, None]
    return wheel or [None, None]


def _segment_of(wheel: list[InstantWinPrize | None], prize_id: int | None) -> int:
    if prize_id is not None:
        for index, segment in enumerate(wheel):
            if segment is not None and segment.id == prize_id:
                return index
    blanks = [i for i, segment in enumerate(wheel) if segment is None]
    return secrets.choice(blanks)  # which blank segment the wheel stops on is only cosmetic


def _outcome_text(prize: InstantWinPrize | None) -> str:
    """Only a stored play with a prize says "you have won"."""
    if prize is None:
        return gettext("No prize this time. Better luck next time!")
    return gettext("You have won: %(prize)s!", prize=prize.name)


def _left_text(left: game.Allowance) -> str:
    return ngettext("You have %(num)s play left.", "You have %(num)s plays left.", left.total)


def _page(person: Participation, campaign: Campaign, notice: str = "", status: int = 200) -> Any:
    prizes = service.prizes(campaign, active_only=True)
    shown = service.get_play(person, request.args.get("play", 0, type=int) or 0)
    won = service.prize_of(shown)
    left = service.allowance(campaign, person)
    page = render_template(
        "public/play.html",
        campaign=campaign,
        person=person,
        prizes=prizes,
        wheel=_segments(prizes),
        percent=game.percent,
        one_in=game.one_in,
        no_prize_percent=game.percent(game.ROLLS - sum(p.chance_ppm for p in prizes)),
        left=left,
        left_text=_left_text(left),
        outcome=_outcome_text(won) if shown else "",
        won=won is not None,
        notice=notice,
        rules=service.play_rules(campaign),
        # ``view_args`` is None only outside a matched request
        play_url=url_for(".play", token=request.view_args["token"]),  # type: ignore[index]
    )
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/play/<token>")
def play(token: str) -> Any:
    person, campaign = _player(token)
    return _page(person, campaign)


def _ip_key() -> str:
    return f"play-ip:{hash_ip(request.remote_addr) or '-'}"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/play/<token>", methods=["POST"])
@limiter.limit(configured_limit("PLAY_RATE_LIMIT"), key_func=_ip_key)
def spin(token: str) -> Any:
    """One play. JSON for the page's script (status 201, or 409 with a message), else a
    redirect to the page showing the stored outcome."""
    person, campaign = _player(token)
    try:
        result = service.play(campaign, person)
    except Conflict as error:
        if _wants_json():
            return jsonify({"message": localized_message(error)}), 409
        return _page(person, campaign, notice=localized_message(error), status=409)
    if not _wants_json():
        return redirect(url_for(".play", token=token, play=result.play.id), 303)
    wheel = _segments(service.prizes(campaign, active_only=True))
    return jsonify(
        {
            "play_id": result.play.id,
            "won": result.won,
            # a won play always has its prize
            "prize": result.prize.name if result.won else None,  # type: ignore[union-attr]
            "segment": _segment_of(wheel, result.play.prize_id),
            "segments": len(wheel),
            "message": _outcome_text(result.prize if result.won else None),
            "plays_left": result.left.total,
            "left_text": _left_text(result.left),
        }
    ), 201
