"""The one place where errors become HTTP: HTML pages for people, problem+json for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from referral.domain.errors import N_, DomainError, Message, NotFound, as_message
from referral.extensions import db

log = logging.getLogger(__name__)

HOOKS_PREFIX = "/hooks/"
API_PREFIX = "/api/"

# Werkzeug's English names and default descriptions of the HTTP errors people may meet,
# marked here so they are extracted; ``localize`` finds them by their exact text.
HTTP_TEXTS = (
    N_("Bad Request"),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("Unauthorized"),
    N_(
        "The server could not verify that you are authorized to access the URL requested. You "
        "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
        "understand how to supply the credentials required."
    ),
    N_("Forbidden"),
    N_(
        "You don't have the permission to access the requested resource. It is either "
        "read-protected or not readable by the server."
    ),
    N_("Not Found"),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually please "
        "check your spelling and try again."
    ),
    N_("Method Not Allowed"),
    N_("The method is not allowed for the requested URL."),
    N_("Request Entity Too Large"),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("Unsupported Media Type"),
    N_("The server does not support the media type transmitted in the request."),
    N_("Service Unavailable"),
    N_(
        "The server is temporarily unable to service your request due to maintenance downtime "
        "or capacity problems. Please try again later."
    ),
)


def localize(message: Message | str) -> str:
    """A message in the request's language: ``gettext(template) % params``.

    Plain strings are looked up as they are; text that is not in the catalogue, or a
    translation that does not fit its parameters, falls back to the English text.
    """
    found = as_message(message)
    if not found.template:
        return ""  # gettext("") would answer the catalogue's header
    try:
        return gettext(found.template, **found.params)
    except (KeyError, ValueError, TypeError):
        return found.text


def localized_message(error: DomainError) -> str:
    """``error.message`` in the request's language."""
    return localize(error.summary)


def localized_errors(error: DomainError) -> dict[str, list[str]]:
    """``error.errors`` (per field) in the request's language."""
    return {name: [localize(m) for m in found] for name, found in error.messages.items()}


def wants_problem_json() -> bool:
    """The API's answers, and the payment providers' receivers' (``/hooks/…``), are JSON."""
    return request.path.startswith((API_PREFIX, HOOKS_PREFIX))


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    problem_type: str = "about:blank",
) -> Response:
    """An RFC 9457 ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": problem_type, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, title: str, detail: str | Message) -> tuple[str, int]:
    """The HTML error page; ``title`` and ``detail`` are English msgids, translated here."""
    page = render_template(
        "errors/error.html", status=status, title=localize(title), detail=localize(detail)
    )
    return page, status


def handle_http(error: HTTPException) -> Any:
    status = error.code or 500
    title = error.name
    detail = error.description or ""
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        # ``valid_methods`` is MethodNotAllowed's, present as checked above
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if wants_problem_json():
        return problem(status, title, localize(detail), headers=headers)
    body, status = _page(status, title, detail)
    return body, status, headers


def _problem_type(error: DomainError) -> str:
    """``about:blank``, or the absolute URI of an error's own problem type (a path such as
    ``/problems/not-confirmed`` on this service's public address)."""
    path = getattr(error, "problem_type", None)
    if not path:
        return "about:blank"
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}"


def handle_domain(error: DomainError) -> Any:
    if wants_problem_json():
        detail = localized_message(error)
        errors = localized_errors(error)
        return problem(error.status, error.title, detail, errors, problem_type=_problem_type(error))
    return _page(error.status, error.title, error.summary)


def handle_rate_limit(error: RateLimitExceeded) -> Any:
    retry_after = "60"
    limit = getattr(error, "limit", None)
    if limit is not None:
        retry_after = str(int(limit.limit.get_expiry()))
    headers = {"Retry-After": retry_after}
    detail = N_("Too many requests. Please wait a moment and try again.")
    if wants_problem_json():
        return problem(429, "Too many requests", localize(detail), headers=headers)
    body, status = _page(429, N_("Too many requests"), detail)
    return body, status, headers


def handle_csrf(error: CSRFError) -> Any:
    detail = N_(
        "The form expired or was sent from elsewhere. Go back, reload the page and try again."
    )
    if wants_problem_json():
        return problem(400, "Bad request", localize(detail))
    return _page(400, N_("Form expired"), detail)


def handle_unexpected(error: Exception) -> Any:
    # Only programming faults land here; anything a client sends is answered before.
    original = getattr(error, "original_exception", error)
    if isinstance(original, HTTPException):
        return handle_http(original)
    if wants_problem_json():
        return problem(500, "Internal server error", gettext("Something went wrong on our side."))
    return _page(
        500,
        N_("Something went wrong"),
        N_("Something went wrong on our side. Try again later."),
    )


# Seconds a client is asked to wait while the database is busy or away.
UNAVAILABLE_RETRY_AFTER = 5


def handle_database_unavailable(error: Exception) -> Any:
    """The database is away, overloaded or its write lock stayed busy past the timeout: 503
    with ``Retry-After``. Nothing was written (the transaction is rolled back), so the
    client's retry is safe; the cause goes to the log, not to the client."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rollback after a database error failed too", exc_info=True)
    log.warning("database unavailable: %s", error.__class__.__name__, exc_info=True)
    headers = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)}
    detail = N_("The service is busy for a moment. Please try again in a few seconds.")
    if wants_problem_json():
        return problem(503, "Service unavailable", localize(detail), headers=headers)
    body, status = _page(503, N_("Busy for a moment"), detail)
    return body, status, headers


def reject_nul_path() -> None:
    """No page or record has NUL in its address (PostgreSQL cannot even look one up)."""
    if "\x00" in request.path:
        raise NotFound(N_("No such page."))


def init_app(app: Flask) -> None:
    app.before_request(reject_nul_path)
    app.register_error_handler(RateLimitExceeded, handle_rate_limit)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeout, handle_database_unavailable)

    def api_error(error: Any) -> Any:
        """APIFlask's own errors (input validation, auth) as problem+json."""
        if not wants_problem_json():
            return _page(error.status_code, error.message or "Error", "")
        errors = _flatten_validation(error.detail) if error.status_code == 422 else None
        detail = error.message if error.status_code != 422 else N_("Some fields are not valid.")
        if error.status_code == 400 and not detail:
            detail = N_("The request body is not valid JSON.")
        detail = localize(detail)
        title = "Validation failed" if error.status_code == 422 else error.message or "Error"
        return problem(error.status_code, title, detail, errors, error.headers)

    # Assigned, not ``@app.error_processor``: that would also register ``api_error`` for every
    # Werkzeug HTTPException, replacing ``handle_http`` and turning HTML error pages into JSON.
    app.error_callback = app.ensure_sync(api_error)  # type: ignore[attr-defined]  # an APIFlask hook


def _flatten_validation(detail: Any) -> dict[str, list[str]]:
    """APIFlask nests errors by location (``{"json": {"field": [...]}}``); flatten them."""
    flat: dict[str, list[str]] = {}
    if not isinstance(detail, dict):
        return flat
    for location in detail.values():
        if isinstance(location, dict):
            _flatten_into(flat, "", location)
    return flat


def _flatten_into(flat: dict[str, list[str]], prefix: str, messages: dict[Any, Any]) -> None:
    """Nested fields and list items are named with dots: ``rules.prizes.0.name``; a nested
    object of the wrong type (marshmallow's ``_schema``) is named by its own field."""
    for field, found in messages.items():
        name = prefix[:-1] if field == "_schema" and prefix else f"{prefix}{field}"
        if isinstance(found, dict):
            _flatten_into(flat, f"{name}.", found)
        else:
            flat.setdefault(name, []).extend(str(m) for m in _as_list(found))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
