"""One decorator per API operation: its route, and everything every operation gets around
its view (docs/API.md, Conventions), always in this order:

1. the bearer key (:mod:`referral.api.auth`), which decides the workspace of every query;
2. the key's rate limit and ``Idempotency-Key`` replays (:mod:`referral.api.guard`), before
   the body is read, so that a replay answers without parsing anything again;
3. for a body, a JSON object (:mod:`referral.api.bodies`), then its schema; or the query's;
4. the answer's schema, which serialises what the view returns (a model, a page of them);
5. the documentation, with the operation's problem answers (:mod:`referral.api.openapi`).

Most operations are one of a few kinds, each with the problems it may answer: :func:`creates`,
:func:`lists`, :func:`reads`, :func:`changes` and :func:`acts` declare them so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from apiflask import Schema
from flask import url_for

from referral.api import bp
from referral.api.auth import auth
from referral.api.bodies import json_object_required
from referral.api.guard import guarded
from referral.api.openapi import problem_responses
from referral.api.schemas import ListQuery

F = TypeVar("F", bound=Callable[..., Any])


def operation(
    route: str,
    operation_id: str,
    summary: str,
    output: type[Schema],
    output_description: str,
    *,
    status: int = 200,
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    description: str | None = None,
    errors: tuple[int, ...] = (),
    responses: dict[int, Any] | None = None,
) -> Callable[[F], F]:
    """Register the view as the operation ``route`` (``"POST /campaigns"``).

    The view receives the checked ``body`` as ``data`` and the checked ``query`` as
    ``query``; ``errors`` are the problem statuses it may answer, ``responses`` further
    documented answers (another success status, say).
    """
    method, rule = route.split(" ", 1)

    def decorate(view: F) -> F:
        documented = bp.doc(
            summary=summary,
            description=description,
            operation_id=operation_id,
            responses={**(responses or {}), **problem_responses(*errors)},
        )(view)
        wrapped = bp.output(output, status_code=status, description=output_description)(documented)
        if body is not None:
            wrapped = json_object_required(bp.input(body, arg_name="data")(wrapped))
        if query is not None:
            wrapped = bp.input(query, location="query", arg_name="query")(wrapped)
        wrapped = bp.auth_required(auth)(guarded(wrapped))
        return bp.route(rule, methods=[method])(wrapped)

    return decorate


def _named(route: str, *statuses: int) -> tuple[int, ...]:
    """``statuses`` with 404 when the route names something (``<campaign_id>``) that may not be
    the caller's."""
    return tuple(sorted({*statuses, 404} if "<" in route else set(statuses)))


# The kinds of operation: each passes on operation()'s route, operation_id, summary, output and
# output_description, and the rest (body=, description=, responses=) as given.
def creates(route: str, *doc: Any, conflict: bool = False, **more: Any) -> Callable[[F], F]:
    """Takes a JSON body and answers 201 with what it made; ``conflict`` when the state of
    things may refuse it (409)."""
    refused = (400, 401, 413, 422, 409) if conflict else (400, 401, 413, 422)
    return operation(route, *doc, status=201, errors=_named(route, *refused), **more)


def lists(route: str, *doc: Any, query: type[Schema] = ListQuery, **more: Any) -> Callable[[F], F]:
    """A page of a collection (or anything read with a ``query``, which may be invalid)."""
    return operation(route, *doc, query=query, errors=_named(route, 401, 422), **more)


def reads(route: str, *doc: Any, **more: Any) -> Callable[[F], F]:
    """The one thing the route names."""
    return operation(route, *doc, errors=_named(route, 401), **more)


def changes(route: str, *doc: Any, **more: Any) -> Callable[[F], F]:
    """Changes the thing the route names by the fields of a JSON body, unless its state
    refuses (409)."""
    return operation(route, *doc, errors=_named(route, 400, 401, 409, 413, 422), **more)


def acts(
    route: str, *doc: Any, errors: tuple[int, ...] = (401, 404, 409), **more: Any
) -> Callable[[F], F]:
    """Does something to the thing the route names (``POST .../publish``), without a body,
    unless its state refuses (409)."""
    return operation(route, *doc, errors=errors, **more)


def created(body: Any, endpoint: str, **values: Any) -> tuple[Any, int, dict[str, str]]:
    """A 201 answer with the new resource's address (``url_for(endpoint, **values)``) in
    ``Location``."""
    return body, 201, {"Location": url_for(endpoint, **values)}
