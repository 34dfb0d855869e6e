"""A posted admin form that makes one change: checked, then made by a service, then either a
redirect with a flashed message or the page again with the problems on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, redirect

from referral.domain.errors import DomainError, ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.forms import Form

T = TypeVar("T")


def attach_errors(form: Form, error: ValidationFailed) -> None:
    """Show a service's field errors, translated, on the form's fields (or on top)."""
    for name, messages in localized_errors(error).items():
        field = getattr(form, name, None)
        if field is not None and field.type != "HiddenField":
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)
    if not error.errors:
        form.form_errors.append(localized_message(error))


def submit(
    form: Form,
    change: Callable[[], T],
    refused: Callable[[int], Any],
    saved: str | Callable[[T], None],
    to: str,
    *,
    attach: Callable[[Any, ValidationFailed], None] = attach_errors,
    refusals: tuple[type[DomainError], ...] = (),
) -> Any:
    """The answer to a posted ``form`` whose ``change`` a service makes.

    Made: ``saved`` flashed (a message, or a function that flashes from what ``change``
    returned) and a redirect to ``to``. Else the page again, ``refused(status)``: 422 for a
    form that is not valid, or for a :class:`ValidationFailed` whose errors ``attach`` puts on
    the form; the status of one of the ``refusals`` (``Conflict`` …), its message above the
    form. Any other error is not caught.
    """
    if not form.validate_on_submit():
        return refused(422)
    try:
        made = change()
    except ValidationFailed as error:
        attach(form, error)
        return refused(422)
    except refusals as error:
        form.form_errors.append(localized_message(error))
        return refused(error.status)
    if isinstance(saved, str):
        flash(saved, "success")
    else:
        saved(made)
    return redirect(to)
