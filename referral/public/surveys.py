"""A participant's survey, on a phone-first page reached by their signed link.

The link is offered on the thank-you page after confirming and on the advocate page. A bad
answer re-renders the form with a message at each question (422) and stores nothing; a
second response, or one after the survey closed, answers 409.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from referral.domain.errors import Conflict, ValidationFailed
from referral.errors import localize, localized_errors, localized_message
from referral.forms import Form
from referral.models import Participation
from referral.models.base import utcnow
from referral.public import bp
from referral.services import advocates
from referral.services import surveys as service

MAX_VALUES = 500  # far more than 50 questions of 20 options can send


class SurveyForm(Form):
    """The survey's CSRF token; the answers themselves are checked by the domain rules
    (``domain.surveys.parse_answers``), since the questions are the marketer's."""


def _private(page: str, status: int) -> Any:
    response = current_app.make_response((page, status))
    # The address is a key to a personal page: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _form_page(
    token: str,
    found: service.SurveyState,
    status: int = 200,
    values: dict[str, list[str]] | None = None,
    errors: dict[str, list[str]] | None = None,
    notice: str = "",
) -> Any:
    page = render_template(
        "public/survey.html",
        campaign=found.campaign,
        survey=found.survey,
        questions=list(found.survey.questions) if found.survey else [],
        token=token,
        form=SurveyForm(formdata=None),
        values=values or {},
        errors=errors or {},
        notice=notice,
        unconfirmed=found.status == "unconfirmed",
    )
    return _private(page, status)


def _done(participation: Participation, found: service.SurveyState, status: int = 200) -> Any:
    page = render_template(
        "public/survey_done.html",
        campaign=found.campaign,
        again=status != 200,
        advocate_url=url_for("advocate.page", token=advocates.advocate_token(participation)),
    )
    return _private(page, status)


def _closed(found: service.SurveyState, status: int = 200) -> Any:
    campaign = found.campaign
    upcoming = campaign.status == "live" and campaign.starts_at and utcnow() < campaign.starts_at
    page = render_template("public/closed.html", campaign=campaign, upcoming=upcoming)
    return _private(page, status)


@bp.route("/s/<token>", methods=["GET", "POST"])
def survey(token: str) -> Any:
    """The survey of the participant named by ``token``.

    :raise NotFound: a forged or altered token, or a campaign without a survey (404).
    """
    token = token[:300]
    participation = service.from_token(token)
    found = service.state(participation)
    if found.status == "answered":
        return _done(participation, found, 409 if request.method == "POST" else 200)
    if found.status == "closed":
        return _closed(found, 409 if request.method == "POST" else 200)
    if request.method == "GET" or found.status == "unconfirmed":
        return _form_page(token, found, 409 if request.method == "POST" else 200)
    return _submit(token, participation, found)


def _submit(token: str, participation: Participation, found: service.SurveyState) -> Any:
    values = {
        name: request.form.getlist(name)[:MAX_VALUES]
        for name in list(request.form.keys())[:MAX_VALUES]
        if name.startswith("q")
    }
    try:
        service.submit_response(participation, values)
    except ValidationFailed as error:
        notice = localized_message(error)
        return _form_page(token, found, 422, values, localized_errors(error), notice)
    except service.AlreadyAnswered:
        return _done(participation, found, 409)
    except service.SurveyClosed:
        return _closed(found, 409)
    except Conflict as error:
        return _form_page(token, found, 409, values, notice=localize(error.summary))
    return redirect(url_for(".survey", token=token), 303)
