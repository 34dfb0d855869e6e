"""The customer's own privacy rights: download their data, or have it erased.

``/privacy/<token>`` (linked from every e-mail and from the advocate page) asks for the
address and what to do; a POST mails a single-use link to that address and always answers
the same neutral page, whether or not the address is known. The form is rate-limited per
client address and per e-mail address (keyed hashes only).

``/privacy/link/<token>`` is the mailed link. A GET only shows a page with a button (mail
scanners follow links, and following one must change nothing); the button's POST downloads
the JSON or erases. A used or expired link says so (410), with a button to the privacy
page to ask for a new one.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import InputRequired, Length

from referral import emails
from referral.domain.emails import normalise_email
from referral.domain.errors import ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.extensions import configured_limit, limiter
from referral.forms import Form
from referral.public import bp
from referral.security import hash_ip, keyed_hash
from referral.services import privacy_requests

TOKEN_MAX = 300  # far longer than any token we make


class PrivacyForm(Form):
    """The address to mail the link to; the button pressed says what for."""

    email = EmailField(
        _l("Your e-mail address"),
        validators=[InputRequired(_l("Enter an e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


def _private(body: Any, status: int = 200) -> Any:
    response = current_app.make_response((body, status))
    # The address is a key to a person's data: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- limits -------------------------------------------------------------------------------


def _ip_key() -> str:
    return f"privacy-ip:{hash_ip(request.remote_addr) or '-'}"


def _address_key() -> str:
    raw = str(request.form.get("email", ""))[:254]
    try:
        identity = normalise_email(raw)
    except ValidationFailed:
        identity = raw.strip().lower()
    return f"privacy-address:{keyed_hash(identity, 'privacy-address')}"


def _link_key() -> str:
    return f"privacy-link-ip:{hash_ip(request.remote_addr) or '-'}"


# --- the privacy page ---------------------------------------------------------------------


@bp.route("/privacy/<token>", methods=["GET", "POST"])
@limiter.limit(configured_limit("PRIVACY_RATE_LIMIT"), key_func=_ip_key, methods=["POST"])
@limiter.limit(
    configured_limit("PRIVACY_ADDRESS_RATE_LIMIT"), key_func=_address_key, methods=["POST"]
)
def privacy(token: str) -> Any:
    """The privacy page: the address, and a button to download or to erase.

    :raise NotFound: a forged or altered token (404).
    """
    token = token[:TOKEN_MAX]
    workspace, customer = privacy_requests.from_page_token(token)
    form = PrivacyForm(data={"email": customer.email_display if customer else ""})

    def page(status: int = 200, notice: str = "") -> Any:
        html = render_template(
            "public/privacy.html", token=token, form=form, brand=workspace.name, notice=notice
        )
        return _private(html, status)

    if request.method == "GET":
        return page()
    kind = request.form.get("kind", "")
    if not form.validate():
        return page(422)
    try:
        privacy_requests.request_link(
            workspace.id,
            str(form.email.data),
            kind,
            emails.privacy_link,
            ip_hash=hash_ip(request.remote_addr),
        )
    except ValidationFailed as error:
        # The address's messages go next to it; what fits no field (the kind) above.
        found = localized_errors(error)
        form.email.errors = [*form.email.errors, *found.pop("email", [])]
        return page(422, " ".join(m for messages in found.values() for m in messages))
    html = render_template("public/privacy_sent.html", kind=kind, brand=workspace.name)
    return _private(html)


# --- the mailed link ----------------------------------------------------------------------


def _link_refused(error: privacy_requests.LinkRefused) -> Any:
    """410 saying why, with the way on: the privacy page, to ask for a new link."""
    html = render_template(
        "public/privacy_link.html",
        message=localized_message(error),
        again_url=url_for("public.privacy", token=error.page),
    )
    return _private(html, 410)


@bp.route("/privacy/link/<token>", methods=["GET", "POST"])
@limiter.limit(
    configured_limit("CONFIRM_RATE_LIMIT"),
    key_func=_link_key,
    deduct_when=lambda response: response.status_code == 404,
)
def privacy_link(token: str) -> Any:
    """The mailed link: a page with the button (GET); the download or the erasure (POST).

    :raise NotFound: an unknown token (404).
    """
    token = token[:TOKEN_MAX]
    ip_hash = hash_ip(request.remote_addr)
    try:
        if request.method == "GET":
            opened = privacy_requests.open_link(token)
            html = render_template(
                "public/privacy_link.html",
                token=token,
                kind=opened.request.kind,
                brand=opened.workspace.name,
            )
            return _private(html)
        if request.form.get("kind") == privacy_requests.ERASURE:
            opened = privacy_requests.erase(token, ip_hash=ip_hash)
            html = render_template("public/privacy_erased.html", brand=opened.workspace.name)
            return _private(html)
        opened, document = privacy_requests.download(token, ip_hash=ip_hash)
    except privacy_requests.LinkRefused as error:
        return _link_refused(error)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    response = _private(body)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = "attachment; filename=my-data.json"
    return response
