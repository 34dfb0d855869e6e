"""Webhooks page: owners register URLs for events; everyone sees recent deliveries."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from referral.admin import bp
from referral.admin.forms import ActionForm, MultiCheckboxField
from referral.admin.integrations import ProviderForm, provider_form, providers_context
from referral.domain.errors import Conflict, ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.forms import Form
from referral.models import PROVIDERS
from referral.models.webhooks import WebhookDelivery, WebhookEndpoint
from referral.security import OWNER_ROLES, READ_ROLES, role_required
from referral.services import inbound_hooks
from referral.services import webhook_delivery as delivery
from referral.services import webhook_endpoints as service
from referral.services.scoping import get_owned

EVENT_NAMES = {
    "participant.joined": _l("A person joined a campaign"),
    "participant.confirmed": _l("A participant confirmed their address"),
    "referral.counted": _l("A referral counted (the friend confirmed)"),
    "referral.rejected": _l("A referral was rejected (with the reason)"),
    "reward.granted": _l("A reward was granted"),
    "reward.held": _l("A reward was held (hold period or review)"),
    "reward.voided": _l("A reward was made void (refund, review)"),
    "milestone.reached": _l("An advocate reached a milestone"),
    "survey.completed": _l("A survey was completed"),
    "trial.started": _l("A trial started"),
    "trial.ending": _l("A trial is about to end (reminder sent)"),
    "trial.converted": _l("A trial converted"),
    "instant_win.played": _l("An instant-win game was played"),
    "draw.completed": _l("A draw was completed"),
    "journey.step": _l("A journey took a step (sent, skipped, tagged …)"),
    "consent.withdrawn": _l("A customer withdrew a consent (unsubscribed)"),
}
# Ticked for a new endpoint: the everyday events; journey steps can be many.
DEFAULT_EVENTS = ["participant.confirmed", "reward.granted", "draw.completed", "consent.withdrawn"]


class WebhookForm(Form):
    url = StringField(_l("Address (URL)"), validators=[Length(max=500)])
    events = MultiCheckboxField(
        _l("Events"),
        choices=[SelectChoice(name, label) for name, label in EVENT_NAMES.items()],
        default=DEFAULT_EVENTS,
    )


def _page(
    form: WebhookForm,
    secret: str | None = None,
    status: int = 200,
    provider_forms: dict[str, ProviderForm] | None = None,
) -> Any:
    body = render_template(
        "admin/webhooks.html",
        **providers_context(g.workspace.id, provider_forms),
        endpoints=service.list_endpoints(g.workspace.id),
        deliveries=service.recent_deliveries(g.workspace.id),
        form=form,
        action=ActionForm(),
        secret=secret,
        event_names=EVENT_NAMES,
    )
    return body, status


def _marketer() -> Any:
    return current_user._get_current_object()


@bp.route("/webhooks", methods=["GET"])
@role_required(*READ_ROLES)
def webhooks() -> Any:
    return _page(WebhookForm(formdata=None))


@bp.route("/webhooks", methods=["POST"])
@role_required(*OWNER_ROLES)
def create_webhook() -> Any:
    form = WebhookForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        endpoint = service.create_endpoint(
            g.workspace, form.url.data, form.events.data, _marketer()
        )
    except ValidationFailed as error:
        found = localized_errors(error)
        for name in ("url", "events"):
            getattr(form, name).errors = [*getattr(form, name).errors, *found.get(name, [])]
        if not found:
            form.url.errors = [*form.url.errors, localized_message(error)]
        return _page(form, status=422)
    return _page(WebhookForm(formdata=None), secret=endpoint.secret, status=201)


@bp.route("/webhooks/<int:endpoint_id>/toggle", methods=["POST"])
@role_required(*OWNER_ROLES)
def toggle_webhook(endpoint_id: int) -> Any:
    endpoint = get_owned(WebhookEndpoint, endpoint_id, g.workspace.id)
    if ActionForm().validate_on_submit():
        service.set_active(endpoint, not endpoint.active, _marketer())
        if endpoint.active:
            flash(_("Webhook %(url)s is on.", url=endpoint.url), "success")
        else:
            flash(_("Webhook %(url)s is paused.", url=endpoint.url), "success")
    return redirect(url_for("admin.webhooks"))


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@role_required(*OWNER_ROLES)
def delete_webhook(endpoint_id: int) -> Any:
    endpoint = get_owned(WebhookEndpoint, endpoint_id, g.workspace.id)
    if ActionForm().validate_on_submit():
        url = endpoint.url
        service.delete_endpoint(endpoint, _marketer())
        flash(_("Webhook %(url)s deleted.", url=url), "success")
    return redirect(url_for("admin.webhooks"))


@bp.route("/webhooks/deliver", methods=["POST"])
@role_required(*OWNER_ROLES)
def deliver_webhooks() -> Any:
    if ActionForm().validate_on_submit():
        counts = delivery.deliver_due(workspace_id=g.workspace.id)
        flash(
            _(
                "Delivered: %(delivered)s · to retry later: %(retrying)s · failed: %(failed)s",
                **counts,
            ),
            "success",
        )
    return redirect(url_for("admin.webhooks"))


@bp.route("/webhooks/deliveries/<int:delivery_id>/retry", methods=["POST"])
@role_required(*OWNER_ROLES)
def retry_webhook_delivery(delivery_id: int) -> Any:
    row = get_owned(WebhookDelivery, delivery_id, g.workspace.id)
    if ActionForm().validate_on_submit():
        delivery.retry_now(row)
        flash(_("The delivery will be tried again."), "success")
    return redirect(url_for("admin.webhooks"))


def _provider_or_404(provider: str) -> str:
    if provider not in PROVIDERS:
        abort(404)
    return provider


@bp.route("/webhooks/providers/<provider>", methods=["POST"])
@role_required(*OWNER_ROLES)
def save_provider(provider: str) -> Any:
    """Set up a payment provider's receiver, or give it a new secret or campaign (an empty
    secret keeps the one set)."""
    provider = _provider_or_404(provider)
    form = provider_form(g.workspace.id, provider, formdata=request.form)
    hook = inbound_hooks.hooks_of(g.workspace.id).get(provider)
    if not form.validate_on_submit():
        return _page(WebhookForm(formdata=None), status=422, provider_forms={provider: form})
    who = {"marketer_id": _marketer().id}
    try:
        if hook is None:
            inbound_hooks.create_hook(
                g.workspace.id, provider, form.secret.data, form.campaign_id.data or None, **who
            )
        else:
            inbound_hooks.update_hook(
                hook,
                secret=form.secret.data or None,
                campaign_id=form.campaign_id.data or None,
                **who,
            )
    except (ValidationFailed, Conflict) as error:
        found = localized_errors(error)
        form.secret.errors = [*form.secret.errors, *found.get("secret", [])]
        form.campaign_id.errors = [*form.campaign_id.errors, *found.get("campaign_id", [])]
        if not found:
            form.secret.errors = [*form.secret.errors, localized_message(error)]
        return _page(WebhookForm(formdata=None), status=422, provider_forms={provider: form})
    name = inbound_hooks.PROVIDER_NAMES[provider]
    flash(
        _("%(provider)s is set up: copy its address into %(provider)s.", provider=name), "success"
    )
    return redirect(url_for("admin.webhooks", _anchor=f"provider-{provider}"))


@bp.route("/webhooks/providers/<provider>/delete", methods=["POST"])
@role_required(*OWNER_ROLES)
def delete_provider(provider: str) -> Any:
    provider = _provider_or_404(provider)
    hook = inbound_hooks.hooks_of(g.workspace.id).get(provider)
    if hook is None:
        abort(404)
    if ActionForm().validate_on_submit():
        inbound_hooks.delete_hook(hook, marketer_id=_marketer().id)
        name = inbound_hooks.PROVIDER_NAMES[provider]
        flash(_("%(provider)s is no longer received.", provider=name), "success")
    return redirect(url_for("admin.webhooks"))
