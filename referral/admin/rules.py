"""Reward rules of a campaign, and its coupon pool: read by everyone, changed by editors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import format_currency, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from referral.admin import bp
from referral.admin.context import owned_campaign
from referral.admin.forms import ActionForm
from referral.admin.submit import attach_errors, submit
from referral.domain.depth import HARD_CEILING
from referral.domain.errors import NotFound, ValidationFailed
from referral.domain.rewards import REFERRAL_EVENTS, REWARD_EVENTS
from referral.forms import Form, WholeNumberField
from referral.models import Campaign, RewardRule
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import coupons
from referral.services import rules as service

MILESTONE = "milestone"

EVENT_NAMES = {
    "signup_confirmed": _l("a referred friend confirms their sign-up"),
    "purchase": _l("a purchase"),
    "trial_converted": _l("a free trial turns into a paid plan"),
    "survey_completed": _l("a completed survey"),
    "lottery_entered": _l("an entry to the prize draw"),
}
LEVEL_NAMES = {
    0: _l("the person who acts"),
    1: _l("their referrer"),
    2: _l("two levels up"),
    3: _l("three levels up"),
}
# Level 0 of an event that exists because someone was referred is that friend, and only a
# friend someone referred: a person who came on their own earns nothing from it.
REFERRED_FRIEND = _l("the referred friend (only someone a confirmed advocate referred)")
MILESTONE_LEVEL_NAMES = {
    0: _l("the advocate who reaches it"),
    1: _l("the advocate's referrer"),
}
REWARD_CHOICES = [
    SelectChoice("points", _l("Points")),
    SelectChoice("entries", _l("Draw entries")),
    SelectChoice("coupon", _l("Coupon code from the pool")),
    SelectChoice("cash", _l("Cash")),
]


class RuleForm(Form):
    event = SelectField(
        _l("When"),
        choices=[
            *(SelectChoice(e, EVENT_NAMES[e]) for e in REWARD_EVENTS),
            SelectChoice(MILESTONE, _l("a milestone")),
        ],
    )
    milestone = WholeNumberField(
        _l("Milestone: confirmed referrals"),
        validators=[Optional(), NumberRange(min=1, max=10_000)],
        description=_l(
            "Only for milestones: pays once, when this many referred friends have confirmed."
        ),
    )
    level = SelectField(
        _l("Who gets it"),
        coerce=int,
        choices=[SelectChoice(n, LEVEL_NAMES[n]) for n in range(HARD_CEILING + 1)],
        default=1,
    )
    reward = SelectField(_l("Reward"), choices=REWARD_CHOICES)
    amount = WholeNumberField(
        _l("Amount"),
        validators=[InputRequired(), NumberRange(min=1, max=service.AMOUNT_MAX)],
        description=_l(
            "Points, draw entries or coupons; cash in minor units (cents): 2500 is 25.00."
        ),
    )
    currency = StringField(
        _l("Currency (cash only)"),
        validators=[Optional(), Length(min=3, max=3)],
        description=_l("Three letters, e.g. EUR."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # Not an inline validator: Optional() would stop the chain before it runs.
        if self.event.data == MILESTONE and self.milestone.data is None and valid:
            self.milestone.errors = [_("Give the number of confirmed referrals.")]
            return False
        return valid

    def values(self) -> dict[str, Any]:
        at_milestone = self.event.data == MILESTONE
        return {
            "event": None if at_milestone else self.event.data,
            "milestone": self.milestone.data if at_milestone else None,
            "level": self.level.data,
            "reward": self.reward.data,
            "amount": self.amount.data,
            "currency": (self.currency.data or "").strip() or None,
        }


class CouponForm(Form):
    codes = TextAreaField(_l("Codes, one per line"), validators=[Optional()])
    file = FileField(
        _l("Or a CSV file"),
        validators=[Optional(), FileAllowed(["csv", "txt"], _l("Upload a .csv or .txt file."))],
        description=_l("The first column holds the codes; a header named “code” is skipped."),
    )


@bp.app_template_filter("money_minor")
def money(amount: int | None, currency: str | None) -> str:
    """An amount in minor units (cents) as money in the page's language."""
    if amount is None:
        return "—"
    if not currency:
        return format_decimal(amount)
    digits = get_currency_precision(currency)
    return format_currency(Decimal(amount).scaleb(-digits), currency)


def _page(
    campaign: Campaign,
    form: RuleForm | None = None,
    coupon_form: CouponForm | None = None,
    status: int = 200,
) -> Any:
    page = render_template(
        "admin/rules.html",
        campaign=campaign,
        rules=list(campaign.rules),
        form=form or RuleForm(formdata=None),
        coupon_form=coupon_form or CouponForm(formdata=None),
        pool=coupons.coupon_counts(campaign),
        action=ActionForm(),
        event_names=EVENT_NAMES,
        level_names=LEVEL_NAMES,
        referral_events=REFERRAL_EVENTS,
        referred_friend=REFERRED_FRIEND,
        milestone_level_names=MILESTONE_LEVEL_NAMES,
        limit=min(campaign.reward_depth, g.ceiling),
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/rules", methods=["GET"])
@role_required(*READ_ROLES)
def rules(campaign_id: int) -> Any:
    return _page(owned_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/rules", methods=["POST"])
@role_required(*EDIT_ROLES)
def add_rule(campaign_id: int) -> Any:
    found = owned_campaign(campaign_id)
    form = RuleForm()
    return submit(
        form,
        lambda: service.add_rule(
            found, form.values(), marketer_id=current_user.id, ip_hash=hash_ip(request.remote_addr)
        ),
        lambda status: _page(found, form=form, status=status),
        _("Reward rule added."),
        url_for("admin.rules", campaign_id=found.id),
    )


@bp.route("/campaigns/<int:campaign_id>/rules/<int:rule_id>/deactivate", methods=["POST"])
@role_required(*EDIT_ROLES)
def deactivate_rule(campaign_id: int, rule_id: int) -> Any:
    found = owned_campaign(campaign_id)
    rule = next((r for r in found.rules if r.id == rule_id), None)
    if rule is None:
        raise NotFound("No such reward rule.")
    if ActionForm().validate_on_submit():
        _deactivate(rule)
    return redirect(url_for("admin.rules", campaign_id=found.id))


def _deactivate(rule: RewardRule) -> None:
    if rule.active:
        service.deactivate_rule(rule)
        flash(_("The rule no longer pays. Rewards it paid stay in the ledger."), "success")
    else:
        flash(_("This rule was already switched off."), "success")


def _uploaded_codes(form: CouponForm) -> list[str] | None:
    """The codes of the textarea and the file; None (with the error on the form) when the
    file is not text."""
    codes = coupons.read_codes(form.codes.data or "")
    if form.file.data:
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = [_("The file is not UTF-8 text.")]
            return None
        codes += coupons.read_codes(text, csv_file=True)
    return codes


@bp.route("/campaigns/<int:campaign_id>/coupons", methods=["POST"])
@role_required(*EDIT_ROLES)
def upload_coupons(campaign_id: int) -> Any:
    found = owned_campaign(campaign_id)
    form = CouponForm()
    codes = _uploaded_codes(form) if form.validate_on_submit() else None
    if codes is not None:
        try:
            added = coupons.add_coupons(found, codes)
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            skipped = len(set(codes)) - added
            flash(
                ngettext("%(num)s code added", "%(num)s codes added", added)
                + " · "
                + ngettext("%(num)s already in the pool.", "%(num)s already in the pool.", skipped),
                "success",
            )
            return redirect(url_for("admin.rules", campaign_id=found.id) + "#coupons")
    return _page(found, coupon_form=form, status=422)
