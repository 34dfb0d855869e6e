"""The OpenAPI document at /api/v1/openapi.json: error responses, security, finishing touches.

APIFlask generates the paths from the decorators; this module adds what it cannot know:
errors are ``application/problem+json`` (RFC 9457), request bodies are required, and the
reward-depth ceiling is this server's setting.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from referral.domain.depth import DEFAULT_CEILING

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem detail. Validation failures name each bad field in "
    "`errors` (nested fields with dots, e.g. `rules.sponsor`).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the problem type."},
        "title": {"type": "string", "description": "A short summary of the problem type."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "errors": {
            "type": "object",
            "description": "Each bad field and what is wrong with it.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

_DESCRIPTIONS = {
    400: "Malformed request: the body is not a JSON object, not UTF-8, or not sent as "
    "`application/json`.",
    401: "Missing, unknown or revoked API key.",
    404: "No such resource in this API key's workspace.",
    409: "The resource is not in a state that allows this, or the Idempotency-Key was used "
    "for a different request.",
    413: "The request body is too large.",
    422: "Validation failed; `errors` names each bad field.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    503: "The database is busy or away for a moment; nothing was changed. Retry after "
    "`Retry-After` seconds.",
}

_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "The authentication scheme to use: `Bearer`.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer"},
        }
    },
}
_HEADERS[503] = _HEADERS[429]

API_DESCRIPTION = """\
The JSON API of referral.

**Authentication:** every request sends `Authorization: Bearer <key>`. A key belongs to one
workspace; a marketer creates and revokes keys in the admin. A missing, unknown or revoked key
answers 401; the id of something in another workspace answers 404.

**Conventions:** JSON in and out, UTF-8. Ids are strings; times are ISO 8601 with an offset.
Lists take `?limit=` (1 to 500, default 50) and `?cursor=` (the `next_cursor` of the previous
page) and answer `{"items": [...], "next_cursor": "..." | null}`.

**Errors** are `application/problem+json` (RFC 9457). Validation failures answer 422 and name
each bad field in `errors`; malformed JSON answers 400; a request in the wrong state answers 409.
"""


# More media types of an operation's success answer (operationId → media type → object).
EXTRA_CONTENT: dict[str, dict[str, Any]] = {}
# The media types of an operation whose success answer is a file only (operationId → media
# type → object), instead of JSON.
FILE_CONTENT: dict[str, dict[str, Any]] = {}


def problem_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """``@bp.doc(responses=...)`` entries for these error statuses, as problem+json."""
    responses: dict[int, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[status] = response
    return responses


def _finish(app: Flask, spec: dict[str, Any]) -> dict[str, Any]:
    """Add the Problem schema, mark JSON bodies required, state this server's depth ceiling."""
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path in spec.get("paths", {}).values():
        for method, operation in path.items():
            if isinstance(operation, dict):
                _finish_operation(method, operation)
    ceiling = int(app.config.get("REFERRAL_MAX_REWARD_DEPTH", DEFAULT_CEILING))
    level = components["schemas"].get("RuleIn", {}).get("properties", {}).get("level")
    if level is not None:
        level["maximum"] = ceiling
    for name in ("CampaignIn", "CampaignPatch", "CampaignOut"):
        depth = components["schemas"].get(name, {}).get("properties", {}).get("reward_depth")
        if depth is not None:
            depth["maximum"] = ceiling
    return spec


IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string of yours (a UUID; 1 to 255 printable ASCII characters, "
    "else 422) to make this POST safe to retry: a "
    "repeat with the same key and body answers the first answer (status and body, with the "
    "header `Idempotent-Replayed: true`) and changes nothing; the same key with another "
    "request answers 409. Keys are per workspace.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


def _finish_operation(method: str, operation: dict[str, Any]) -> None:
    """Bodies are required; every call may be rate limited (429); every POST takes an
    ``Idempotency-Key`` (and may answer 409 for a reused one)."""
    if "requestBody" in operation:
        operation["requestBody"]["required"] = True
    responses = operation.setdefault("responses", {})
    extra = EXTRA_CONTENT.get(operation.get("operationId", ""))
    if extra and "200" in responses:
        responses["200"].setdefault("content", {}).update(extra)
    only = FILE_CONTENT.get(operation.get("operationId", ""))
    if only and "200" in responses:
        responses["200"]["content"] = dict(only)
    if "security" not in operation:
        return  # not behind an API key: not rate limited by key either
    # A POST may answer 409 for a reused Idempotency-Key and 422 for a malformed one.
    statuses = [429, 503, 409, 422] if method == "post" else [429, 503]
    for status, response in problem_responses(*statuses).items():
        responses.setdefault(str(status), response)
    if method == "post":
        operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)


def _mark_plain_blueprints(app: Flask) -> None:
    """APIFlask 3.1 reads ``enable_openapi`` on every blueprint that has a ``before_request``
    hook and fails on plain Flask blueprints (the admin): say they are not part of the API."""
    for blueprint in app.blueprints.values():
        if not hasattr(blueprint, "enable_openapi"):
            # an APIFlask attribute, set here on plain Flask blueprints
            blueprint.enable_openapi = False  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    app.config.update(
        # Error responses are documented per operation, as problem+json (problem_responses).
        AUTO_VALIDATION_ERROR_RESPONSE=False,
        AUTO_AUTH_ERROR_RESPONSE=False,
        AUTO_404_RESPONSE=False,
        AUTO_OPERATION_ID=False,
        DESCRIPTION=API_DESCRIPTION,
    )
    _mark_plain_blueprints(app)
    previous = getattr(app, "spec_callback", None)

    def finish(spec: Any) -> Any:
        if previous is not None:
            spec = previous(spec)
        if app.config.get("SPEC_PROCESSOR_PASS_OBJECT"):
            return spec  # an APISpec object: only a dict is ours to finish
        return _finish(app, spec)

    app.spec_callback = finish  # type: ignore[attr-defined]  # an APIFlask hook
