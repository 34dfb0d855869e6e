"""An instant-win campaign's game: play rules, the prize table (odds and stock), the plays."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from referral.admin import bp
from referral.admin.context import of_kind, owned_campaign
from referral.admin.forms import ActionForm
from referral.admin.submit import submit
from referral.domain import instant_win as game
from referral.domain.errors import N_, Conflict, ValidationFailed
from referral.errors import localized_message
from referral.forms import Form, WholeNumberField
from referral.models import Campaign
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import instant_win as service


class PrizeForm(Form):
    name = StringField(_l("Prize"), validators=[InputRequired(), Length(max=120)])
    chance = StringField(
        _l("Chance per play (percent)"),
        validators=[InputRequired(), Length(max=20)],
        description=_l("For example 2.5 for one play in forty; up to four decimals."),
    )
    inventory = WholeNumberField(
        _l("How many to give away"),
        validators=[InputRequired()],
        description=_l("When they are gone, landing on this prize wins nothing."),
    )


class PlayRulesForm(Form):
    per_day = WholeNumberField(_l("Plays per day"), validators=[InputRequired()])
    per_referral = WholeNumberField(
        _l("Bonus plays per confirmed referral"), validators=[InputRequired()]
    )


def _game_campaign(campaign_id: int, change: bool = False) -> Campaign:
    """The workspace's campaign; to change the game it must be an instant-win campaign.

    :raise NotFound: another workspace's campaign.  :raise Conflict: ``change`` on another
        kind of campaign (its page only says that it has no game).
    """
    found = owned_campaign(campaign_id)
    if change:
        return of_kind(found, "instant_win", Conflict, N_("This campaign has no instant-win game."))
    return found


def _page(
    campaign: Campaign,
    prize_form: PrizeForm | None = None,
    rules_form: PlayRulesForm | None = None,
    status: int = 200,
) -> Any:
    rules = service.play_rules(campaign)
    table = service.prizes(campaign)
    page = render_template(
        "admin/instant_win.html",
        campaign=campaign,
        prizes=table,
        no_prize_percent=game.percent(game.ROLLS - sum(p.chance_ppm for p in table if p.active)),
        percent=game.percent,
        stats=service.stats(campaign),
        plays=service.recent_plays(campaign),
        prize_form=prize_form or PrizeForm(formdata=None),
        rules_form=rules_form or PlayRulesForm(formdata=None, data=rules.__dict__),
        action=ActionForm(),
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/game")
@role_required(*READ_ROLES)
def instant_win(campaign_id: int) -> Any:
    return _page(_game_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/game/prizes", methods=["POST"])
@role_required(*EDIT_ROLES)
def add_prize(campaign_id: int) -> Any:
    found = _game_campaign(campaign_id, change=True)
    form = PrizeForm()
    prize = {"name": form.name.data, "chance": form.chance.data, "inventory": form.inventory.data}
    return submit(
        form,
        lambda: service.add_prize(found, prize),
        lambda status: _page(found, prize_form=form, status=status),
        _("Prize added."),
        url_for("admin.instant_win", campaign_id=found.id),
    )


@bp.route("/campaigns/<int:campaign_id>/game/rules", methods=["POST"])
@role_required(*EDIT_ROLES)
def game_rules(campaign_id: int) -> Any:
    found = _game_campaign(campaign_id, change=True)
    form = PlayRulesForm()
    rules = {"per_day": form.per_day.data, "per_referral": form.per_referral.data}
    return submit(
        form,
        lambda: service.update_play_rules(found, rules),
        lambda status: _page(found, rules_form=form, status=status),
        _("Play rules saved."),
        url_for("admin.instant_win", campaign_id=found.id),
    )


@bp.route(
    "/campaigns/<int:campaign_id>/game/prizes/<int:prize_id>/on",
    methods=["POST"],
    defaults={"state": "on"},
)
@bp.route(
    "/campaigns/<int:campaign_id>/game/prizes/<int:prize_id>/off",
    methods=["POST"],
    defaults={"state": "off"},
)
@role_required(*EDIT_ROLES)
def switch_prize(campaign_id: int, prize_id: int, state: str) -> Any:
    found = _game_campaign(campaign_id, change=True)
    if ActionForm().validate_on_submit():
        try:
            service.switch_prize(found, prize_id, state == "on")
        except ValidationFailed as error:
            flash(localized_message(error), "error")
    return redirect(url_for("admin.instant_win", campaign_id=found.id))
