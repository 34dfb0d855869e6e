"""A survey campaign's questionnaire builder, its results with charts, and the CSV export.

Every route is scoped to the marketer's workspace: a campaign of another workspace (or a
question of another survey) answers 404, as one that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.admin.submit import submit
from referral.domain import surveys as rules
from referral.domain.errors import N_, Conflict, NotFound
from referral.errors import localized_message
from referral.extensions import talisman
from referral.forms import Form, WholeNumberField
from referral.headers import CHART_CSP
from referral.models import Campaign, Survey
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import survey_builder as builder
from referral.services import survey_results
from referral.services import surveys as service
from referral.services.scoping import get_owned

KIND_NAMES = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "rating": _l("Rating from 1 to 5"),
    "nps": _l("Net Promoter Score (0 to 10)"),
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
}
NO_DATA = _l("No answers yet")
# A chart is an image: it may style itself inline, and load or run nothing at all.


class SurveySettingsForm(Form):
    anonymous = BooleanField(
        _l("Anonymous results: keep answers apart from contact details"),
        description=_l(
            "Results and the export then name nobody, and a participant's timeline records "
            "only that they completed the survey. Cannot change once responses are in."
        ),
    )
    quota = WholeNumberField(
        _l("Quota"),
        validators=[Optional(), NumberRange(min=1, max=rules.QUOTA_MAX)],
        description=_l("The campaign closes when this many responses are in. Empty: no quota."),
    )
    intro = TextAreaField(
        _l("Introduction above the questions"),
        validators=[Optional(), Length(max=rules.INTRO_MAX)],
    )


class QuestionForm(Form):
    kind = SelectField(
        _l("Kind of question"), choices=[SelectChoice(k, v) for k, v in KIND_NAMES.items()]
    )
    prompt = StringField(
        _l("Question"),
        validators=[InputRequired(_l("Write the question.")), Length(max=rules.PROMPT_MAX)],
    )
    required = BooleanField(_l("An answer is required"), default=True)
    options = TextAreaField(
        _l("Options, one per line"),
        description=_l("Only for single and multiple choice: 2 to 20 options."),
    )

    def values(self) -> dict[str, Any]:
        return {
            "kind": self.kind.data,
            "prompt": self.prompt.data,
            "required": self.required.data,
            "options": (self.options.data or "").splitlines(),
        }


def _owned(campaign_id: int) -> Campaign:
    """:raise NotFound: for another workspace's campaign, or a campaign that is no survey."""
    campaign = get_owned(Campaign, campaign_id, g.workspace.id)
    service.ensure_kind(campaign)
    return campaign


def _builder(
    campaign: Campaign,
    settings: SurveySettingsForm | None = None,
    question: QuestionForm | None = None,
    status: int = 200,
) -> Any:
    survey = service.survey_of(campaign)
    if settings is None:
        settings = SurveySettingsForm(formdata=None, obj=survey)
    page = render_template(
        "admin/survey.html",
        campaign=campaign,
        survey=survey,
        questions=list(survey.questions) if survey else [],
        responses=service.response_count(survey),
        settings_form=settings,
        question_form=question or QuestionForm(formdata=None),
        action=ActionForm(),
        question_kinds=KIND_NAMES,
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/survey")
@role_required(*READ_ROLES)
def survey(campaign_id: int) -> Any:
    return _builder(_owned(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/survey/settings", methods=["POST"])
@role_required(*EDIT_ROLES)
def survey_settings(campaign_id: int) -> Any:
    campaign = _owned(campaign_id)
    form = SurveySettingsForm()
    data = {"anonymous": form.anonymous.data, "quota": form.quota.data, "intro": form.intro.data}
    return submit(
        form,
        lambda: builder.update_settings(campaign, data),
        lambda status: _builder(campaign, settings=form, status=status),
        _("Survey settings saved."),
        url_for("admin.survey", campaign_id=campaign.id),
    )


@bp.route("/campaigns/<int:campaign_id>/survey/questions", methods=["POST"])
@role_required(*EDIT_ROLES)
def add_survey_question(campaign_id: int) -> Any:
    campaign = _owned(campaign_id)
    form = QuestionForm()
    return submit(
        form,
        lambda: builder.add_question(campaign, form.values()),
        lambda status: _builder(campaign, question=form, status=status),
        _("Question added."),
        url_for("admin.survey", campaign_id=campaign.id) + "#questions",
        refusals=(Conflict,),
    )


def _change(campaign_id: int, question_id: int, change: Any, done: str) -> Any:
    campaign = _owned(campaign_id)
    found = service.survey_of(campaign)
    question = builder.get_question(found, question_id)
    if ActionForm().validate_on_submit():
        try:
            change(found, question)
        except Conflict as error:
            flash(localized_message(error), "error")
        else:
            flash(done, "success")
    return redirect(url_for("admin.survey", campaign_id=campaign.id) + "#questions")


@bp.route("/campaigns/<int:campaign_id>/survey/questions/<int:question_id>/up", methods=["POST"])
@role_required(*EDIT_ROLES)
def move_survey_question_up(campaign_id: int, question_id: int) -> Any:
    move = lambda s, q: builder.move_question(s, q, -1)  # noqa: E731
    return _change(campaign_id, question_id, move, _("Question moved up."))


@bp.route("/campaigns/<int:campaign_id>/survey/questions/<int:question_id>/down", methods=["POST"])
@role_required(*EDIT_ROLES)
def move_survey_question_down(campaign_id: int, question_id: int) -> Any:
    move = lambda s, q: builder.move_question(s, q, 1)  # noqa: E731
    return _change(campaign_id, question_id, move, _("Question moved down."))


@bp.route(
    "/campaigns/<int:campaign_id>/survey/questions/<int:question_id>/delete", methods=["POST"]
)
@role_required(*EDIT_ROLES)
def delete_survey_question(campaign_id: int, question_id: int) -> Any:
    return _change(campaign_id, question_id, builder.delete_question, _("Question deleted."))


# --- results ---------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/survey/results")
@role_required(*READ_ROLES)
def survey_results_page(campaign_id: int) -> Any:
    campaign = _owned(campaign_id)
    found: Survey | None = service.survey_of(campaign)
    data = survey_results.results(found)
    return render_template(
        "admin/survey_results.html",
        campaign=campaign,
        survey=found,
        results=data,
        question_kinds=KIND_NAMES,
        text_kinds=rules.TEXT_KINDS,
    )


@bp.route("/campaigns/<int:campaign_id>/survey/questions/<int:question_id>/chart.svg")
@talisman(content_security_policy=CHART_CSP)
@role_required(*READ_ROLES)
def survey_chart(campaign_id: int, question_id: int) -> Any:
    campaign = _owned(campaign_id)
    found = service.survey_of(campaign)
    question = builder.get_question(found, question_id)
    if question.kind in rules.TEXT_KINDS:
        raise NotFound(N_("Text questions have no chart."))
    result = survey_results.results(found, only=question).questions[0][1]
    svg = survey_results.chart_svg(question, result, str(NO_DATA))
    response = Response(svg, mimetype="image/svg+xml")
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


@bp.route("/campaigns/<int:campaign_id>/survey/export.csv")
@role_required(*READ_ROLES)
def survey_export(campaign_id: int) -> Any:
    campaign = _owned(campaign_id)
    marketer = current_user._get_current_object()
    content = survey_results.export_csv(campaign, service.survey_of(campaign), marketer)
    stem = re.sub(r"[^a-z0-9-]", "", campaign.slug) or "campaign"
    response = Response(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-survey.csv"'
    response.cache_control.no_store = True
    return response
