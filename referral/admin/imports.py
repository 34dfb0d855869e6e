"""Importing a file of people into a campaign: upload, map the columns, look at the first
rows, import, then the outcome of every row as a CSV report (``services.import_jobs``)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from referral import emails
from referral.admin import bp
from referral.admin.context import owned_campaign
from referral.admin.submit import attach_errors
from referral.domain.errors import Conflict, Message, ValidationFailed
from referral.domain.imports import BASIS_MAX, FIELDS, MAX_BYTES
from referral.errors import localize, localized_message
from referral.forms import Form
from referral.models import Campaign, ParticipantImport
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import import_jobs as service
from referral.services.exports import safe_cell

FIELD_NAMES = {
    "email": _l("E-mail address"),
    "name": _l("Name"),
    "locale": _l("Language"),
    "referral_code": _l("Referrer's code"),
    "birthday": _l("Birthday"),
}
RESULT_NAMES = {
    "created": _l("Added"),
    "existing": _l("Already in the campaign"),
    "error": _l("Not imported"),
}
STATUS_NAMES = {
    "uploaded": _l("Waiting for its columns"),
    "queued": _l("Waiting for the worker"),
    "running": _l("Importing"),
    "done": _l("Done"),
    "failed": _l("Failed: nothing was imported"),
}


class UploadForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l(
            "UTF-8, comma or semicolon separated, the first line naming the columns; up to 2 MB."
        ),
    )


class MappingForm(Form):
    """Each field's column of the file (``""``: not imported), the basis, confirmed."""

    email = SelectField(FIELD_NAMES["email"], validate_choice=False)
    name = SelectField(FIELD_NAMES["name"], validate_choice=False)
    locale = SelectField(FIELD_NAMES["locale"], validate_choice=False)
    referral_code = SelectField(FIELD_NAMES["referral_code"], validate_choice=False)
    birthday = SelectField(FIELD_NAMES["birthday"], validate_choice=False)
    basis = TextAreaField(
        _l("Why you may write to these people"),
        validators=[Optional(), Length(max=BASIS_MAX)],
        description=_l(
            "Kept word for word with each person as where their consent comes from "
            "(e.g. “customers who bought from us, existing contract”). It is no consent to "
            "marketing e-mail: that still needs each person's own opt-in."
        ),
    )
    confirmed = BooleanField(
        _l("The addresses are verified: confirm them at once and send no confirmation mail")
    )

    def offer(self, header: list[str]) -> None:
        choices = [("", str(_l("— not imported —")))] + [
            (str(i), name or f"#{i + 1}") for i, name in enumerate(header)
        ]
        for name in FIELDS:
            getattr(self, name).choices = choices

    def fill(self, mapping: service.Mapping) -> None:
        for name in FIELDS:
            column = mapping.get(name)
            getattr(self, name).data = "" if column is None else str(column)

    def columns(self) -> service.Mapping:
        chosen: service.Mapping = {}
        for name in FIELDS:
            raw = getattr(self, name).data or ""
            chosen[name] = int(raw) if raw.isdigit() and len(raw) < 6 else None
        return chosen


def _job(campaign_id: int, import_id: int) -> tuple[Campaign, ParticipantImport]:
    campaign = owned_campaign(campaign_id)
    return campaign, service.get_import(campaign, import_id)


def _list_page(campaign: Campaign, form: UploadForm | None = None, status: int = 200) -> Any:
    page = render_template(
        "admin/imports.html",
        campaign=campaign,
        form=form or UploadForm(formdata=None),
        imports=service.recent_imports(campaign),
        status_names=STATUS_NAMES,
        max_mb=MAX_BYTES // (1024 * 1024),
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/imports")
@role_required(*READ_ROLES)
def imports(campaign_id: int) -> Any:
    return _list_page(owned_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/imports", methods=["POST"])
@role_required(*EDIT_ROLES)
def upload_import(campaign_id: int) -> Any:
    campaign = owned_campaign(campaign_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _list_page(campaign, form, 422)
    upload = form.file.data
    try:
        job = service.upload_file(
            campaign, upload.filename or "", upload.read(MAX_BYTES + 1), current_user.id
        )
    except ValidationFailed as error:
        attach_errors(form, error)
        return _list_page(campaign, form, 422)
    return redirect(url_for("admin.participant_import", campaign_id=campaign.id, import_id=job.id))


def _problems(row: Any) -> list[str]:
    return [
        f"{FIELD_NAMES.get(name, name)}: {localize(message)}"
        for name, found in row.errors.items()
        for message in found
    ]


def _job_page(
    campaign: Campaign,
    job: ParticipantImport,
    form: MappingForm | None = None,
    mapping: service.Mapping | None = None,
    status: int = 200,
) -> Any:
    context: dict[str, Any] = {}
    if service.startable(job):
        table = service.table_of(job)
        mapping = mapping if mapping is not None else service.mapping_of(job)
        if form is None:
            form = MappingForm(formdata=None)
            form.fill(mapping)
            form.basis.data = job.basis
            form.confirmed.data = job.confirmed
        form.offer(table.header)
        rows = service.preview(job, mapping)
        context = {"form": form, "preview": [(row, _problems(row)) for row in rows]}
    page = render_template(
        "admin/import.html",
        campaign=campaign,
        job=job,
        done=service.progress_of(job),
        field_names=FIELD_NAMES,
        result_names=RESULT_NAMES,
        status_names=STATUS_NAMES,
        fields=FIELDS,
        **context,
    )
    return page, status


@bp.route("/campaigns/<int:campaign_id>/imports/<int:import_id>")
@role_required(*READ_ROLES)
def participant_import(campaign_id: int, import_id: int) -> Any:
    return _job_page(*_job(campaign_id, import_id))


@bp.route("/campaigns/<int:campaign_id>/imports/<int:import_id>", methods=["POST"])
@role_required(*EDIT_ROLES)
def start_import(campaign_id: int, import_id: int) -> Any:
    """``action=preview`` shows the first rows with the chosen columns; ``action=import``
    starts the import (in the request for a small file, else in the worker)."""
    campaign, job = _job(campaign_id, import_id)
    if not service.startable(job):
        flash(_("This import is started already."), "error")
        return redirect(
            url_for("admin.participant_import", campaign_id=campaign.id, import_id=job.id)
        )
    form = MappingForm()
    form.offer(service.table_of(job).header)
    if not form.validate_on_submit():
        return _job_page(campaign, job, form, form.columns(), 422)
    if request.form.get("action") != "import":
        return _job_page(campaign, job, form, form.columns())
    try:
        service.start_import(
            campaign,
            job,
            form.columns(),
            form.basis.data or "",
            confirmed=bool(form.confirmed.data),
            compose=emails.confirmation,
            ip_hash=hash_ip(request.remote_addr),
        )
    except ValidationFailed as error:
        attach_errors(form, error)
        return _job_page(campaign, job, form, form.columns(), 422)
    except Conflict as error:
        form.form_errors.append(localized_message(error))
        return _job_page(campaign, job, form, form.columns(), 409)
    return redirect(url_for("admin.participant_import", campaign_id=campaign.id, import_id=job.id))


@bp.route("/campaigns/<int:campaign_id>/imports/<int:import_id>/progress")
@role_required(*READ_ROLES)
def import_progress(campaign_id: int, import_id: int) -> Any:
    """What the import page polls while the worker imports: its state and rows done."""
    _campaign, job = _job(campaign_id, import_id)
    return jsonify(
        status=job.status,
        label=str(STATUS_NAMES[job.status]),
        done=service.progress_of(job),
        rows=job.rows,
        counts=job.counts,
    )


def _report_csv(job: ParticipantImport) -> str:
    """Each row's outcome in the page's language, one line per problem (a row without any
    has one line); cells a spreadsheet would run as a formula are neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Line"), _("E-mail address"), _("Result"), _("Field"), _("Message")])
    for line, email, result, problems in job.report:
        label = str(RESULT_NAMES.get(result, result))
        for name, template, params in problems or [["", "", {}]]:
            message = localize(Message(template, params)) if template else ""
            field = str(FIELD_NAMES.get(name, name))
            writer.writerow([safe_cell(v) for v in (line, email, label, field, message)])
    return buffer.getvalue()


@bp.route("/campaigns/<int:campaign_id>/imports/<int:import_id>/report.csv")
@role_required(*READ_ROLES)
def import_report(campaign_id: int, import_id: int) -> Any:
    campaign, job = _job(campaign_id, import_id)
    service.report_downloaded(job, current_user.id, hash_ip(request.remote_addr))
    stem = re.sub(r"[^a-z0-9-]", "", campaign.slug) or "campaign"
    response = Response(_report_csv(job), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{stem}-import-{job.id}-report.csv"'
    )
    response.cache_control.no_store = True
    return response
