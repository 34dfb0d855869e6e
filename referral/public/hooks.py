"""Receivers of payment providers' events: ``POST /hooks/stripe/<key>`` and
``POST /hooks/shopify/<key>`` (the address shown on the admin's Webhooks page).

Signed by the provider, not by a form: no CSRF token. Every answer is JSON: 200 with what
was done (also for a delivery seen before, or one that asks for nothing), 400 for a body or
headers the provider would not send, 401 for a missing, wrong or old signature, 404 for an
unknown address. The provider retries what was not answered 2xx.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from referral.domain.inbound import BadDelivery, BadSignature
from referral.errors import localized_message, problem
from referral.extensions import csrf
from referral.public import bp
from referral.services import inbound


@bp.route("/hooks/<any(stripe, shopify):provider>/<key>", methods=["POST"])
@csrf.exempt
def provider_event(provider: str, key: str) -> Any:
    hook = inbound.find_receiver(provider, key)
    body = request.get_data(cache=False)  # the raw bytes the signature covers
    try:
        headers = {name.lower(): value for name, value in request.headers.items()}
        notice = inbound.read(hook, headers, body)
    except (BadSignature, BadDelivery) as error:
        return problem(error.status, error.title, localized_message(error))
    outcome = inbound.receive(hook, notice)
    answer = {"status": outcome.status, "delivery_id": notice.delivery_id}
    if outcome.reason:
        answer["reason"] = outcome.reason
    if outcome.event_id is not None:
        answer["event_id"] = str(outcome.event_id)
    return jsonify(answer), 200
