"""A trial participant's own page: when the free trial started and when it ends."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from referral.domain import trials as rules
from referral.domain.errors import N_, NotFound
from referral.models.base import utcnow
from referral.public import bp
from referral.services import advocates, trials


@bp.route("/trial/<token>")
def trial_status(token: str) -> Any:
    """The person's trial, reached by the signed link of their e-mails and thank-you page.

    :raise NotFound: a forged or altered link, or a campaign that is not a free trial.
    """
    person = advocates.from_token(token[:300])
    campaign = person.campaign
    if campaign is None or campaign.kind != "trial":
        raise NotFound(N_("This link is not valid."))
    trial = trials.trial_of(person)
    now = utcnow()
    state = rules.state(trial.ends_at, trials.is_converted(person), now) if trial else "pending"
    days_left = max(0, (trial.ends_at - now).days) if trial else None
    page = render_template(
        "public/trial.html",
        campaign=campaign,
        trial=trial,
        state=state,
        days_left=days_left,
        settings=trials.trial_settings(campaign),
    )
    response = current_app.make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
