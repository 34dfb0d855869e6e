"""Domain errors. They cross layers as types; ``referral.errors`` alone maps them to HTTP.

Messages are written in English as %-style templates with named parameters and marked
with :func:`N_`, so ``pybabel extract -k N_`` finds them while the domain stays free of
Flask and Babel::

    raise ValidationFailed.on(
        "name", N_("Keep the name to %(max)s characters."), {"max": NAME_MAX}
    )

``error.message`` and ``error.errors`` hold the formatted English text (for logs, the CLI
and tests); ``error.template``/``error.params`` and ``error.messages`` keep the template
and parameters so the display layer can translate (see ``referral.errors.localize``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def N_(template: str) -> str:
    """Mark ``template`` for extraction without translating it; returns it unchanged."""
    return template


def _format(template: str, params: Mapping[str, Any]) -> str:
    return template % params if params else template


@dataclass(frozen=True)
class Message:
    """A translatable message: an English %-template and its named parameters."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The message formatted in English."""
        return _format(self.template, self.params)

    def __str__(self) -> str:
        return self.text


def as_message(value: str | Message) -> Message:
    """A plain string is a template without parameters (translated if it is a msgid)."""
    return value if isinstance(value, Message) else Message(value)


FieldErrors = Mapping[str, Sequence[str | Message]]


class DomainError(Exception):
    """Base of every business-rule failure. ``status`` is a hint for the HTTP layer.

    :param message: an English template, e.g. ``N_("Keep it to %(max)s characters.")``.
    :param errors: per field, a list of messages: plain strings or :class:`Message`.
    :param params: the named parameters of ``message``.
    """

    status = 400
    title = N_("Bad request")

    def __init__(
        self,
        message: str,
        errors: FieldErrors | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = message
        self.params: dict[str, Any] = dict(params or {})
        self.message = _format(message, self.params)
        super().__init__(self.message)
        #: Per field, the messages as templates with parameters (for translation).
        self.messages: dict[str, list[Message]] = {
            name: [as_message(m) for m in found] for name, found in (errors or {}).items()
        }
        #: Per field, the same messages formatted in English.
        self.errors: dict[str, list[str]] = {
            name: [m.text for m in found] for name, found in self.messages.items()
        }

    @property
    def summary(self) -> Message:
        """The error's own message as a template with parameters."""
        return Message(self.template, self.params)


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; names each bad field."""

    status = 422
    title = N_("Validation failed")

    @classmethod
    def on(
        cls, field: str, message: str, params: Mapping[str, Any] | None = None
    ) -> ValidationFailed:
        """One bad ``field``; ``message`` is a template filled from ``params``."""
        return cls(message, {field: [Message(message, dict(params or {}))]}, params)


class NotFound(DomainError):
    status = 404
    title = N_("Not found")


class Conflict(DomainError):
    status = 409
    title = N_("Conflict")


class Forbidden(DomainError):
    status = 403
    title = N_("Forbidden")
