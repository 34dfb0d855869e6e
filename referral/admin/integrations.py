"""Payment providers on the Webhooks page: the receiver of each provider, its secret (as a
hint) and campaign, and the forms that set them."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Length

from referral.forms import Form
from referral.models import PROVIDERS
from referral.services import inbound_hooks
from referral.services.journey_admin import campaign_choices

# Where each provider's dashboard takes the address and shows the secret.
PROVIDER_HELP = {
    "stripe": _l(
        "In Stripe: Developers → Webhooks → Add endpoint, with the events "
        "checkout.session.completed and charge.refunded; then reveal its signing secret "
        "(whsec_…)."
    ),
    "shopify": _l(
        "In Shopify: Settings → Notifications → Webhooks, for Order payment (orders/paid) and "
        "Refund create (refunds/create), format JSON; the secret is shown under the list."
    ),
}
RECEIPT_REASONS = {
    "": _l("Recorded"),
    "order_known": _l("Order known already"),
    "topic_not_handled": _l("Not a purchase or refund"),
    "not_paid": _l("Not paid yet"),
    "no_order": _l("No order in it"),
    "no_participant": _l("No such participant"),
    "not_confirmed": _l("Address not confirmed"),
    "unknown_order": _l("Refund of an unknown order"),
    "refused": _l("Refused"),
}


class ProviderForm(Form):
    secret = StringField(
        _l("Signing secret"),
        validators=[Length(max=inbound_hooks.SECRET_MAX)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    campaign_id = SelectField(_l("Campaign of its orders"), choices=[])


def provider_form(workspace_id: int, provider: str, formdata: Any = None) -> ProviderForm:
    form = ProviderForm(formdata=formdata, prefix=provider)
    any_campaign = ("", str(_l("Any: the buyer's newest confirmed participation")))
    form.campaign_id.choices = [any_campaign] + [
        (str(ident), name) for ident, name in campaign_choices(workspace_id)
    ]
    return form


def providers_context(
    workspace_id: int, forms: dict[str, ProviderForm] | None = None
) -> dict[str, Any]:
    """What the page shows of the payment providers."""
    hooks = inbound_hooks.hooks_of(workspace_id)
    forms = dict(forms or {})
    for provider in PROVIDERS:
        if provider not in forms:
            forms[provider] = provider_form(workspace_id, provider)
            hook = hooks.get(provider)
            if hook is not None and hook.campaign_id is not None:
                forms[provider].campaign_id.data = str(hook.campaign_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    addresses = {
        provider: base + url_for("public.provider_event", provider=provider, key=hook.key)
        for provider, hook in hooks.items()
    }
    return {
        "providers": PROVIDERS,
        "provider_names": inbound_hooks.PROVIDER_NAMES,
        "provider_help": PROVIDER_HELP,
        "hooks": hooks,
        "hints": {provider: inbound_hooks.secret_hint(hook) for provider, hook in hooks.items()},
        "addresses": addresses,
        "provider_forms": forms,
        "receipts": inbound_hooks.recent_receipts(workspace_id),
        "receipt_reasons": RECEIPT_REASONS,
    }
