"""A prize draw in the back office: its official rules, the draw button, replacements of
disqualified winners, and the winners list (published on the verify page, or as CSV)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from referral import emails
from referral.admin import bp
from referral.admin.context import of_kind, owned_campaign
from referral.admin.lottery_forms import AmendRulesForm, DrawForm, LotteryRulesForm, ReplaceForm
from referral.admin.submit import submit
from referral.domain.errors import N_, DomainError, NotFound, ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.forms import Form
from referral.models import Campaign, DrawReplacement
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import campaigns as campaign_service
from referral.services import draw_results, draws, lottery

NO_DRAW = N_("No such prize draw.")


def _lottery(campaign_id: int) -> Campaign:
    """:raise NotFound: other workspaces' ids and campaigns that are not prize draws alike."""
    return of_kind(owned_campaign(campaign_id), "lottery", NotFound, NO_DRAW)


def _page(campaign: Campaign, status: int = 200, **forms: Any) -> Any:
    rules = lottery.official_rules(campaign)
    draw = draws.draw_of(campaign)
    if "rules_form" not in forms:
        forms["rules_form"] = LotteryRulesForm(formdata=None)
        forms["rules_form"].load(rules)
    if "amend_form" not in forms:
        forms["amend_form"] = AmendRulesForm(formdata=None)
        forms["amend_form"].load(rules)
    if "draw_form" not in forms:
        forms["draw_form"] = DrawForm(
            formdata=None, winners=rules.get("winners") or 1, alternates=rules.get("alternates")
        )
    forms.setdefault("replace_form", ReplaceForm(formdata=None))
    page = render_template(
        "admin/lottery.html",
        campaign=campaign,
        state=lottery.lottery_of(campaign),
        missing=lottery.missing_rules(campaign),
        entries=len(lottery.current_entries(campaign)) if campaign.status == "live" else None,
        draw=draw,
        current_winners=draws.current_winners(draw) if draw else [],
        replacements=draws.replacements(draw) if draw else [],
        winner_rows=draw_results.winner_rows(draw) if draw else [],
        **forms,
    )
    return page, status


def _attach(form: Form, error: ValidationFailed) -> None:
    for name, messages in localized_errors(error).items():
        field = getattr(form, name.split(".")[-1], None)
        if field is None or not hasattr(field, "errors"):
            form.form_errors.append(" ".join(messages))
        else:
            field.errors = [*field.errors, *messages]
    if not error.errors:
        form.form_errors.append(localized_message(error))


@bp.route("/campaigns/<int:campaign_id>/lottery")
@role_required(*READ_ROLES)
def lottery_page(campaign_id: int) -> Any:
    return _page(_lottery(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/lottery/rules", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_lottery_rules(campaign_id: int) -> Any:
    found = _lottery(campaign_id)
    form = LotteryRulesForm()
    return submit(
        form,
        lambda: campaign_service.update_campaign(
            found, {"rules": form.rules(lottery.official_rules(found))}
        ),
        lambda status: _page(found, status, rules_form=form),
        _("The official rules are saved."),
        url_for("admin.lottery_page", campaign_id=found.id),
        attach=_attach,
    )


@bp.route("/campaigns/<int:campaign_id>/lottery/amend", methods=["POST"])
@role_required(*EDIT_ROLES)
def amend_lottery_rules(campaign_id: int) -> Any:
    """Published rules never change in place: an amendment is a new, logged version."""
    found = _lottery(campaign_id)
    form = AmendRulesForm()
    return submit(
        form,
        lambda: lottery.amend_rules(
            found, form.rules(lottery.official_rules(found)), form.reason.data
        ),
        lambda status: _page(found, status, amend_form=form),
        _("A new version of the official rules is published."),
        url_for("admin.lottery_page", campaign_id=found.id),
        attach=_attach,
        refusals=(DomainError,),
    )


@bp.route("/campaigns/<int:campaign_id>/lottery/draw", methods=["POST"])
@role_required(*EDIT_ROLES)
def run_lottery_draw(campaign_id: int) -> Any:
    found = _lottery(campaign_id)
    form = DrawForm()
    return submit(
        form,
        lambda: draws.run_draw(
            found,
            form.winners.data,
            form.alternates.data,
            form.beacon.data or "",
            compose=emails.draw_winner,
            marketer_id=current_user.id,
        ),
        lambda status: _page(found, status, draw_form=form),
        _("The winners are drawn and told by e-mail."),
        url_for("admin.lottery_page", campaign_id=found.id),
        attach=_attach,
        refusals=(DomainError,),
    )


def _replaced(row: DrawReplacement) -> None:
    if row.replacement_entry_id:
        flash(_("%(entry)s takes the place.", entry=row.replacement_entry_id), "success")
    else:
        flash(_("No alternate is left; the prize stays unawarded."), "error")


@bp.route("/campaigns/<int:campaign_id>/lottery/replace", methods=["POST"])
@role_required(*EDIT_ROLES)
def replace_lottery_winner(campaign_id: int) -> Any:
    found = _lottery(campaign_id)
    draw = draws.draw_of(found)
    form = ReplaceForm()
    if draw is None:
        raise NotFound(NO_DRAW)
    return submit(
        form,
        lambda: draws.replace_winner(
            draw,
            form.entry_id.data.strip(),
            form.reason.data,
            compose=emails.draw_winner,
            marketer_id=current_user.id,
        ),
        lambda status: _page(found, status, replace_form=form),
        _replaced,
        url_for("admin.lottery_page", campaign_id=found.id),
        attach=_attach,
        refusals=(DomainError,),
    )


@bp.route("/campaigns/<int:campaign_id>/lottery/publish-winners", methods=["POST"])
@role_required(*EDIT_ROLES)
def publish_lottery_winners(campaign_id: int) -> Any:
    found = _lottery(campaign_id)
    draw = draws.draw_of(found)
    if draw is None:
        raise NotFound(NO_DRAW)
    if Form().validate_on_submit():
        draws.publish_results(draw, current_user.id)
        flash(_("The winners list is published on the draw's page."), "success")
    return redirect(url_for("admin.lottery_page", campaign_id=found.id))


@bp.route("/campaigns/<int:campaign_id>/lottery/winners.csv")
@role_required(*READ_ROLES)
def lottery_winners_csv(campaign_id: int) -> Any:
    found = _lottery(campaign_id)
    draw = draws.draw_of(found)
    if draw is None:
        raise NotFound(NO_DRAW)
    body = draw_results.winners_csv(draw)
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="winners-{found.slug}.csv"',
        "Cache-Control": "no-store",
    }
    return body, 200, headers
