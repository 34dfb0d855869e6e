"""Journeys: the list, the editor (a JSON definition read back as a list of steps, begun
from a starter), the journey page with its figures and versions, pause and resume.

Owners and editors change journeys; viewers read. A journey of another workspace answers
404 like one that does not exist (``services.journeys.get_journey``). A definition the
domain refuses is shown again (422) with the problems at the steps they concern.
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.admin.journey_steps import STEP_NAMES, step_lines, trigger_words
from referral.domain.errors import Conflict, ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.forms import Form
from referral.models.journey import Journey
from referral.security import EDIT_ROLES, READ_ROLES, role_required
from referral.services import journey_admin as admin
from referral.services import journeys as service
from referral.services import workspace_settings
from referral.services.journey_starters import STARTERS, starter
from referral.services.journey_stats import journey_stats

DEFINITION_MAX = 100_000
STATUS_NAMES = {"draft": _l("Draft"), "running": _l("Running"), "paused": _l("Paused")}
STATUS_BADGES = {"draft": "status-draft", "running": "status-live", "paused": "status-closed"}
REASON_NAMES = {
    "no_consent": _l("no consent"),
    "cap": _l("cap reached"),
    "quiet_hours": _l("quiet hours"),
    "erased": _l("erased"),
    "holdout": _l("holdout"),
    "no_template": _l("no message in any language"),
    "template_failed": _l("message could not be written"),
    "not_supported": _l("journeys do not pay rewards yet"),
    "no_participation": _l("no participation to pay"),
    "campaign_closed": _l("campaign closed"),
    "unconfirmed": _l("address not confirmed"),
    "unknown_reward": _l("not a reward a journey grants"),
}
OUTCOME_NAMES = {
    "entered": _l("entered the journey"),
    "exit": _l("left at the exit"),
    "goal": _l("reached the goal"),
    "waited": _l("waited"),
    "received": _l("the awaited event happened"),
    "timeout": _l("waited in vain"),
    "granted": _l("reward granted"),
    "tagged": _l("tag added"),
    "untagged": _l("tag removed"),
    "webhook": _l("webhook queued"),
}
BAR_WIDTH = 240
BAR_ROW = 28


class JourneyForm(Form):
    name = StringField(
        _l("Name"), validators=[InputRequired(_l("Give the journey a name.")), Length(max=120)]
    )
    campaign_id = SelectField(_l("Campaign"), coerce=str, default="")
    status = SelectField(
        _l("When saved"),
        choices=[
            SelectChoice("draft", _l("Keep as a draft (nobody enters)")),
            SelectChoice("running", _l("Start running")),
        ],
        default="draft",
    )
    definition = TextAreaField(
        _l("Definition (JSON)"),
        validators=[InputRequired(_l("Write the definition.")), Length(max=DEFINITION_MAX)],
    )
    starter = HiddenField()

    def campaign(self) -> int | None:
        value = self.campaign_id.data
        return int(value) if value and value.isdigit() else None


def _form(data: Any = None, **defaults: Any) -> JourneyForm:
    form = JourneyForm(formdata=data, **defaults)
    campaigns = admin.campaign_choices(g.workspace.id)
    form.campaign_id.choices = [
        SelectChoice("", _("Any campaign of the workspace")),
        *(SelectChoice(str(ident), name) for ident, name in campaigns),
    ]
    return form


def _raw(text: str | None) -> Any:
    """The textarea as JSON; None when it is not JSON at all."""
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def _json_error(text: str | None) -> str | None:
    try:
        json.loads(text or "")
    except json.JSONDecodeError as error:
        return _(
            "This is not valid JSON: line %(line)s, column %(column)s: %(error)s",
            line=error.lineno,
            column=error.colno,
            error=error.msg,
        )
    return None


def _editor(
    form: JourneyForm,
    journey: Journey | None,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
) -> Any:
    raw = _raw(form.definition.data)
    problems = problems or {}
    lines = step_lines(raw, problems)
    at_steps = {f"steps.{line.id}" for line in lines} | {f"steps[{n}]" for n in range(len(lines))}
    elsewhere = {where: found for where, found in problems.items() if where not in at_steps}
    body = render_template(
        "admin/journeys/form.html",
        form=form,
        journey=journey,
        lines=lines,
        trigger=trigger_words(raw),
        elsewhere=elsewhere,
        starters=STARTERS,
        templates=sorted(admin.message_catalogue(g.workspace.id)),
    )
    return body, status


def _refused(form: JourneyForm, journey: Journey | None, error: ValidationFailed) -> Any:
    found = localized_errors(error)
    for name in ("name", "campaign_id", "status"):
        if name in found:
            getattr(form, name).errors = [*getattr(form, name).errors, *found.pop(name)]
    form.form_errors.append(localized_message(error))
    return _editor(form, journey, 422, found)


def _invalid(form: JourneyForm, journey: Journey | None) -> Any:
    """422 for a form that did not pass its own checks (or is not JSON)."""
    problem = _json_error(form.definition.data) if form.definition.data else None
    if problem:
        form.definition.errors = [*form.definition.errors, problem]
    return _editor(form, journey, 422)


@bp.route("/journeys")
@role_required(*READ_ROLES)
def journeys() -> Any:
    return render_template(
        "admin/journeys/list.html",
        rows=admin.journey_rows(g.workspace.id),
        mail_cap=workspace_settings.mail_cap(g.workspace.id),
        starters=STARTERS,
        status_names=STATUS_NAMES,
        status_badges=STATUS_BADGES,
        trigger_words=trigger_words,
    )


@bp.route("/journeys/new", methods=["GET"])
@role_required(*EDIT_ROLES)
def new_journey() -> Any:
    chosen = starter(request.args.get("starter")) or STARTERS[0]
    form = _form(
        name=str(_(chosen.name)),
        definition=json.dumps(chosen.fresh_definition(), indent=2),
        starter=chosen.key,
    )
    return _editor(form, None)


@bp.route("/journeys/new", methods=["POST"])
@role_required(*EDIT_ROLES)
def create_journey() -> Any:
    form = _form(request.form)
    if not form.validate_on_submit() or _json_error(form.definition.data):
        return _invalid(form, None)
    try:
        journey = admin.create_from_editor(
            g.workspace.id,
            form.name.data,
            _raw(form.definition.data),
            campaign_id=form.campaign(),
            status=form.status.data or "draft",
            starter_key=form.starter.data or None,
        )
    except ValidationFailed as error:
        return _refused(form, None, error)
    flash(_("Journey “%(name)s” saved.", name=journey.name), "success")
    return redirect(url_for("admin.journey", journey_id=journey.id))


@bp.route("/journeys/<int:journey_id>")
@role_required(*READ_ROLES)
def journey(journey_id: int) -> Any:
    found = service.get_journey(g.workspace.id, journey_id)
    stats = journey_stats(found)
    return render_template(
        "admin/journeys/journey.html",
        journey=found,
        stats=stats,
        bars=_bars(stats["steps"]),
        lines=step_lines(found.definition),
        trigger=trigger_words(found.definition),
        versions=admin.version_history(found),
        status_names=STATUS_NAMES,
        status_badges=STATUS_BADGES,
        step_names=STEP_NAMES,
        reason_names=REASON_NAMES,
        action=ActionForm(),
    )


def _bars(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The chart of reached and sent per step: bar lengths in the SVG's units."""
    top = max((s["reached"] for s in steps), default=0) or 1
    rows = [
        {
            "id": s["id"],
            "reached": s["reached"],
            "sent": s["sent"],
            "y": n * BAR_ROW,
            "reached_w": round(BAR_WIDTH * s["reached"] / top, 1),
            "sent_w": round(BAR_WIDTH * s["sent"] / top, 1),
        }
        for n, s in enumerate(steps)
    ]
    return {"rows": rows, "width": BAR_WIDTH, "height": max(len(rows), 1) * BAR_ROW}


@bp.route("/journeys/<int:journey_id>/edit", methods=["GET"])
@role_required(*EDIT_ROLES)
def edit_journey(journey_id: int) -> Any:
    found = service.get_journey(g.workspace.id, journey_id)
    form = _form(
        name=found.name,
        campaign_id=str(found.campaign_id or ""),
        definition=json.dumps(found.definition, indent=2, ensure_ascii=False),
    )
    return _editor(form, found)


@bp.route("/journeys/<int:journey_id>/edit", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_journey(journey_id: int) -> Any:
    found = service.get_journey(g.workspace.id, journey_id)
    form = _form(request.form)
    if not form.validate_on_submit() or _json_error(form.definition.data):
        return _invalid(form, found)
    before = found.version
    try:
        admin.save_from_editor(
            found, form.name.data, _raw(form.definition.data), campaign_id=form.campaign()
        )
    except ValidationFailed as error:
        return _refused(form, found, error)
    if found.version != before:
        flash(_("Saved as version %(version)s.", version=found.version), "success")
    else:
        flash(_("Changes saved."), "success")
    return redirect(url_for("admin.journey", journey_id=found.id))


@bp.route("/journeys/<int:journey_id>/pause", methods=["POST"])
@role_required(*EDIT_ROLES)
def pause_journey(journey_id: int) -> Any:
    found = service.get_journey(g.workspace.id, journey_id)
    if ActionForm().validate_on_submit():
        try:
            service.pause_journey(found)
        except Conflict as error:
            flash(localized_message(error), "error")
        else:
            flash(_("The journey is paused: nobody enters and nobody moves on."), "success")
    return redirect(url_for("admin.journey", journey_id=found.id))


@bp.route("/journeys/<int:journey_id>/resume", methods=["POST"])
@role_required(*EDIT_ROLES)
def resume_journey(journey_id: int) -> Any:
    found = service.get_journey(g.workspace.id, journey_id)
    if ActionForm().validate_on_submit():
        try:
            service.resume_journey(found)
        except Conflict as error:
            flash(localized_message(error), "error")
        else:
            flash(_("The journey is running."), "success")
    return redirect(url_for("admin.journey", journey_id=found.id))
