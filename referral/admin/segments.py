"""The customer list narrowed by filters (query parameters), saved segments, the CSV export
of a segment or of the current filter, and tags put on a customer or taken off.

Everyone reads, filters and exports (each export audited); owners and editors save, change
and delete segments and change tags.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import SearchField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from referral.admin import bp
from referral.admin.forms import ActionForm
from referral.admin.participants import page_number
from referral.admin.submit import attach_errors
from referral.domain.errors import ValidationFailed
from referral.domain.segments import GENERATION_MAX, NAME_MAX, PARAMS, STATUSES, CustomerFilter
from referral.domain.tags import TAG_MAX
from referral.forms import Form
from referral.models import Customer, Segment
from referral.security import EDIT_ROLES, READ_ROLES, hash_ip, role_required
from referral.services import customer_tags, segment_exports, segments
from referral.services.privacy import Actor
from referral.services.scoping import get_owned

STATUS_WORDS = {
    "pending": _l("Pending"),
    "confirmed": _l("Confirmed"),
    "flagged": _l("Flagged"),
    "rejected": _l("Rejected"),
}
TOPIC_WORDS = {
    "marketing": _l("Marketing"),
    "birthday": _l("Birthday"),
    "transactional": _l("Transactional"),
}


class FilterForm(Form):
    """The list's filters, read from the query string (GET: nothing changes, no CSRF
    token). The service checks the values; the form only shows them."""

    class Meta(Form.Meta):
        csrf = False

    q = SearchField(_l("E-mail address or name"), render_kw={"maxlength": 254})
    campaign = SelectField(_l("Campaign"), validators=[Optional()], validate_choice=False)
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    tag = StringField(_l("Tag"), render_kw={"maxlength": TAG_MAX, "list": "known-tags"})
    channel = StringField(_l("Channel"), render_kw={"maxlength": 32})
    generation = StringField(
        _l("Generation"),
        render_kw={"type": "number", "min": 0, "max": GENERATION_MAX, "inputmode": "numeric"},
    )
    points_min = StringField(
        _l("Points at least"), render_kw={"type": "number", "min": 0, "inputmode": "numeric"}
    )
    active_after = StringField(_l("Active since"), render_kw={"type": "date"})
    active_before = StringField(_l("Not active since"), render_kw={"type": "date"})
    topic = SelectField(_l("Subscribed to"), validators=[Optional()], validate_choice=False)


class SegmentForm(Form):
    """A segment's name; its filter comes with it as hidden fields (the list's)."""

    name = StringField(_l("Segment name"), render_kw={"maxlength": NAME_MAX, "required": True})


class TagForm(Form):
    tag = StringField(_l("Tag"), render_kw={"maxlength": TAG_MAX, "required": True})


def _filter_form(data: Any) -> FilterForm:
    form = FilterForm(data)
    anything = SelectChoice("", _l("Any"))
    form.campaign.choices = [
        anything,
        *(SelectChoice(str(i), n) for i, n in segments.campaign_choices(g.workspace.id)),
    ]
    form.status.choices = [anything, *(SelectChoice(s, STATUS_WORDS[s]) for s in STATUSES)]
    form.topic.choices = [anything, *(SelectChoice(t, w) for t, w in TOPIC_WORDS.items())]
    return form


def _actor() -> Actor:
    return Actor(marketer_id=current_user.id, ip_hash=hash_ip(request.remote_addr))


def _chosen_segment() -> Segment | None:
    raw = request.args.get("segment", "")
    if not raw:
        return None
    return get_owned(Segment, raw, g.workspace.id)


def _params() -> MultiDict[str, str]:
    return MultiDict({k: v for k, v in request.args.items() if k in PARAMS and v.strip()})


def customer_list() -> Any:
    """The list (``/admin/customers``) narrowed by the query's filter. With
    ``?segment=<id>`` alone, by that saved segment's; with a filter too, the segment is
    being changed to it (the page offers to save it so). Bad values are named on the form
    (422)."""
    segment = _chosen_segment()
    chosen = _params()
    params = chosen or (MultiDict(segment.filters) if segment else MultiDict())
    form = _filter_form(params)
    status = 200
    try:
        found = segments.checked_filter(g.workspace.id, params)
    except ValidationFailed as error:
        attach_errors(form, error)
        found, status = CustomerFilter(campaign=0), 422
    page = segments.customer_page(g.workspace.id, found, page_number())
    return render_template(
        "admin/customers.html",
        page=page,
        form=form,
        args=found.to_params(),
        segment=segment,
        segment_export=segment is not None and not chosen,
        segments=segments.list_segments(g.workspace.id),
        segment_form=SegmentForm(formdata=None),
        action=ActionForm(),
        known_tags=customer_tags.workspace_tags(g.workspace.id),
        filtered=not found.is_empty,
        status_words=STATUS_WORDS,
    ), status


def _csv(workspace_id: int, found: CustomerFilter, filename: str) -> Response:
    """The customers of ``found`` as a CSV download (read in batches, sent whole, as the
    other exports are)."""
    text = "".join(segment_exports.customer_lines(workspace_id, found))
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.no_store = True
    return response


@bp.route("/customers/export.csv")
@role_required(*READ_ROLES)
def export_customers() -> Any:
    """The customers of the current filter as CSV (audited)."""
    found = segments.checked_filter(g.workspace.id, _params())
    segment_exports.start_export(g.workspace.id, found, _actor())
    return _csv(g.workspace.id, found, "customers.csv")


@bp.route("/customers/segments/<int:segment_id>/export.csv")
@role_required(*READ_ROLES)
def export_segment(segment_id: int) -> Any:
    """The customers of a saved segment as CSV (audited)."""
    segment = segments.find_segment(g.workspace.id, segment_id)
    found = segments.segment_filter(segment)
    segment_exports.start_export(g.workspace.id, found, _actor(), segment)
    return _csv(g.workspace.id, found, f"segment-{segment.id}.csv")


def _posted_filter() -> dict[str, Any]:
    """The filter posted with a segment's name (the list's, as hidden fields)."""
    return {k: v for k, v in request.form.items() if k in PARAMS and v.strip()}


def _refused(error: ValidationFailed, to: dict[str, Any]) -> Any:
    """Back to the list, the service's problems flashed."""
    form = SegmentForm(formdata=None)
    attach_errors(form, error)
    for message in [*form.form_errors, *form.name.errors]:
        flash(message, "error")
    return redirect(url_for("admin.customers", **to))


@bp.route("/customers/segments", methods=["POST"])
@role_required(*EDIT_ROLES)
def save_segment() -> Any:
    """Save the posted filter (hidden fields) under the posted name."""
    form = SegmentForm()
    params = _posted_filter()
    if not form.validate_on_submit():
        return redirect(url_for("admin.customers", **params))
    try:
        saved = segments.save_segment(g.workspace.id, form.name.data, params, _actor())
    except ValidationFailed as error:
        return _refused(error, params)
    flash(_("Segment “%(name)s” saved.", name=saved.name), "success")
    return redirect(url_for("admin.customers", segment=saved.id))


@bp.route("/customers/segments/<int:segment_id>", methods=["POST"])
@role_required(*EDIT_ROLES)
def change_segment(segment_id: int) -> Any:
    """Rename the segment and give it the posted filter."""
    segment = segments.find_segment(g.workspace.id, segment_id)
    form = SegmentForm()
    params = _posted_filter()
    if not form.validate_on_submit():
        return redirect(url_for("admin.customers", segment=segment.id))
    try:
        segments.change_segment(segment, form.name.data, params, _actor())
    except ValidationFailed as error:
        return _refused(error, {"segment": str(segment.id), **params})
    flash(_("Segment “%(name)s” saved.", name=segment.name), "success")
    return redirect(url_for("admin.customers", segment=segment.id))


@bp.route("/customers/segments/<int:segment_id>/delete", methods=["POST"])
@role_required(*EDIT_ROLES)
def delete_segment(segment_id: int) -> Any:
    segment = segments.find_segment(g.workspace.id, segment_id)
    if ActionForm().validate_on_submit():
        name = segment.name
        segments.delete_segment(segment, _actor())
        flash(_("Segment “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("admin.customers"))


@bp.route("/customers/<int:customer_id>/tags", methods=["POST"])
@role_required(*EDIT_ROLES)
def tag_customer(customer_id: int) -> Any:
    """Put the posted tag on the customer (audited)."""
    found = get_owned(Customer, customer_id, g.workspace.id)
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag, added = customer_tags.tag_customer(found, form.tag.data, _actor())
        except ValidationFailed as error:
            for message in _tag_errors(error):
                flash(message, "error")
        else:
            if added:
                flash(_("Tag “%(tag)s” added.", tag=tag), "success")
            else:
                flash(_("The customer already has the tag “%(tag)s”.", tag=tag), "success")
    return redirect(url_for("admin.customer", customer_id=found.id))


def _tag_errors(error: ValidationFailed) -> list[str]:
    form = TagForm(formdata=None)
    attach_errors(form, error)
    return [*form.form_errors, *form.tag.errors]


@bp.route("/customers/<int:customer_id>/tags/remove", methods=["POST"])
@role_required(*EDIT_ROLES)
def untag_customer(customer_id: int) -> Any:
    """Take the posted tag off the customer (audited)."""
    found = get_owned(Customer, customer_id, g.workspace.id)
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag, removed = customer_tags.untag_customer(found, form.tag.data, _actor())
        except ValidationFailed as error:
            for message in _tag_errors(error):
                flash(message, "error")
        else:
            if removed:
                flash(_("Tag “%(tag)s” removed.", tag=tag), "success")
    return redirect(url_for("admin.customer", customer_id=found.id))
