"""Bearer-key authentication: the key decides the workspace of every query."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import HTTPTokenAuth
from apiflask.exceptions import HTTPError
from flask import Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from referral.domain.errors import N_
from referral.errors import localize, problem
from referral.models import ApiKey
from referral.security import hash_ip
from referral.services import api_keys
from referral.services.api_keys import authenticate_api_key

log = logging.getLogger(__name__)

auth = HTTPTokenAuth(
    scheme="Bearer",
    description="An API key of one workspace, from the admin's API keys page: "
    "`Authorization: Bearer <key>`.",
    security_scheme_name="BearerAuth",
)


@auth.verify_token
def verify(token: str) -> ApiKey | None:
    key = authenticate_api_key(token)
    if key is not None:
        _record_use(key)
        g.api_key = key
        g.workspace_id = key.workspace_id
    return key


def _record_use(key: ApiKey) -> None:
    """Note the key's use (to the minute, audited); never fails the request (the service
    rolls its own unit back when it cannot write)."""
    try:
        api_keys.record_use(key, hash_ip(request.remote_addr))
    except SQLAlchemyError:
        log.warning("could not record the use of API key %s", key.id, exc_info=True)


def caller() -> dict[str, Any]:
    """Who asks, for the audit log: the API key and the hashed client address."""
    return {"actor": f"api-key:{g.api_key.id}", "ip_hash": hash_ip(request.remote_addr)}


@auth.error_processor
def unauthorized(error: HTTPError) -> Response:
    """401 as problem+json with a ``WWW-Authenticate: Bearer`` challenge (RFC 6750)."""
    if request.headers.get("Authorization"):
        detail = N_("This API key is not valid or has been revoked.")
        challenge = 'Bearer realm="referral API", error="invalid_token"'
    else:
        detail = N_("Send an API key: 'Authorization: Bearer <key>'.")
        challenge = 'Bearer realm="referral API"'
    title = error.message or "Unauthorized"
    return problem(
        error.status_code, title, localize(detail), headers={"WWW-Authenticate": challenge}
    )
