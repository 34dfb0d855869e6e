"""The review queue: flagged sign-ups approved or rejected by an editor, one at a time or
in bulk; every decision is logged and the latest are shown under the queue."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from referral.admin import bp
from referral.admin.submit import attach_errors
from referral.domain.errors import ValidationFailed
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import review as service
from referral.services import review_queue

BULK_MAX = 500


class ReviewForm(FlaskForm):
    # Set by the button pressed: "approve"/"reject" for the selection, or "approve:12" for
    # one row; the selected ids come as repeated "ids" fields.
    decision = HiddenField()
    row = HiddenField()
    reason = StringField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Saved with the decision and on every reward it voids or approves."),
    )

    def choice(self) -> tuple[str, list[int]]:
        """The decision and the participation ids it is about."""
        if self.row.data:
            decision, _sep, ident = self.row.data.partition(":")
            return decision, [int(ident)] if ident.isdigit() else []
        ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
        return self.decision.data or "", list(dict.fromkeys(ids))[:BULK_MAX]


def _page(form: ReviewForm, status: int = 200) -> Any:
    page = render_template(
        "admin/review.html",
        queue=review_queue.review_queue(g.workspace.id),
        decisions=review_queue.recent_decisions(g.workspace.id),
        form=form,
    )
    return page, status


@bp.route("/review")
@role_required(*READ_ROLES)
def review() -> Any:
    return _page(ReviewForm(formdata=None))


@bp.route("/review", methods=["POST"])
@role_required(*EDIT_ROLES)
def decide_review() -> Any:
    form = ReviewForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    decision, ids = form.choice()
    if not ids:
        form.form_errors.append(_("Select at least one participant first."))
        return _page(form, 422)
    try:
        done = service.decide(
            g.workspace.id,
            ids,
            decision,
            current_user._get_current_object(),
            form.reason.data or "",
        )
    except ValidationFailed as error:
        attach_errors(form, error)
        return _page(form, 422)
    _report(decision, done)
    return redirect(url_for("admin.review"))


def _report(decision: str, done: int) -> None:
    if done == 0:
        flash(_("Nothing decided: those participants are no longer waiting for review."), "error")
    elif decision == "approve":
        flash(
            ngettext("%(num)s participant approved.", "%(num)s participants approved.", done),
            "success",
        )
    else:
        flash(
            ngettext(
                "%(num)s participant rejected; their rewards are void.",
                "%(num)s participants rejected; their rewards are void.",
                done,
            ),
            "success",
        )
