"""Journey messages written by marketers: Jinja templates run in a sandbox.

A template can read the customer's context (their name, campaigns, points, rank, next
milestone, referral link and QR code, the friends who joined and their own survey answers
by question key) and nothing else. It is checked when saved (:func:`check`): syntax,
names outside the context, fields a name does not have, survey questions that do not
exist, then a render with sample data. The environment is immutable and sandboxed, every
unknown name fails (``StrictUndefined``), HTML parts escape every value, and a template can
call no method, import nothing and build nothing large: no ``range``, ``namespace`` or
macros, no ``**``, no ``%`` on text, ``*`` on text only for short results, a short list of
filters. See docs/JOURNEYS.md.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from referral.domain.campaigns import LOCALES
from referral.domain.errors import N_, DomainError, Message

SOURCE_MAX = 20_000
SUBJECT_MAX = 300
OUTPUT_MAX = 100_000
REPEAT_MAX = 1_000
FRIENDS_MAX = 50
DEFAULT_LOCALE = "en"

TOO_LONG = N_("Keep the template to %(max)s characters.")
SYNTAX = N_("Line %(line)s: %(error)s")
UNKNOWN_NAME = N_("%(name)s is not available in messages; use one of: %(names)s.")
UNKNOWN_FIELD = N_("%(name)s has no %(field)s; use one of: %(fields)s.")
UNKNOWN_QUESTION = N_("No survey question has the key %(key)s.")
FORBIDDEN = N_("Messages cannot use %(what)s.")
SAMPLE_FAILED = N_("With sample data the template fails: %(error)s")
RENDER_FAILED = N_("The message could not be written: %(error)s")
OUTPUT_TOO_LONG = N_("The message would be longer than %(max)s characters.")
EMPTY_SUBJECT = N_("Write the subject.")
EMPTY_TEXT = N_("Write the text of the message.")

FILTERS = (
    "abs capitalize count d default dictsort e escape first float forceescape groupby int "
    "join last length list lower map max min reject rejectattr reverse round select "
    "selectattr sort string striptags sum title trim truncate unique upper urlencode wordcount"
).split()
LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth"}
    | {"previtem", "nextitem"}
)
FORBIDDEN_NODES: tuple[tuple[type[nodes.Node], str], ...] = (
    (nodes.Macro, "{% macro %}"),
    (nodes.CallBlock, "{% call %}"),
    (nodes.Import, "{% import %}"),
    (nodes.FromImport, "{% from %}"),
    (nodes.Include, "{% include %}"),
    (nodes.Extends, "{% extends %}"),
    (nodes.Block, "{% block %}"),
    (nodes.ScopedEvalContextModifier, "{% autoescape %}"),
    (nodes.EvalContextModifier, "{% autoescape %}"),
    (nodes.Pow, "**"),
)

# The names a message can use, and the fields of those that are objects (None: a value or
# a list, whose items the sample render checks).
CAMPAIGN_FIELDS = frozenset({"name", "slug", "url"})
CONTEXT_FIELDS: Mapping[str, frozenset[str] | None] = {
    "customer": frozenset({"name", "first_name", "locale"}),
    "campaign": CAMPAIGN_FIELDS,
    "campaigns": None,
    "points": None,
    "rank": None,
    "next_milestone": frozenset({"target", "remaining"}),
    "referral_link": None,
    "qr_url": None,
    "friends": None,
    "friends_count": None,
    "answers": None,
    "unsubscribe_url": None,
    "preferences_url": None,
    "privacy_url": None,
}


class TemplateFailed(DomainError):
    """A saved template could not be rendered for one customer."""

    status = 422
    title = N_("Message not written")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Reads data, never calls a method; refuses the operators that build huge values."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Dictionary keys are read as items, not attributes, so this only ever sees methods
        # and internals of the values (``name.upper``, ``__class__``), except on loops.
        return isinstance(obj, LoopContext) and attr in LOOP_FIELDS

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the ** operator is not allowed")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("formatting text with % is not allowed")
        if operator == "*" and _repeats_too_much(left, right):
            raise SecurityError(f"repeating text or a list more than {REPEAT_MAX} items")
        return super().call_binop(context, operator, left, right)


def _repeats_too_much(left: Any, right: Any) -> bool:
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(times, int):
            return len(sequence) * times > REPEAT_MAX
    return False


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def _environment(html: bool) -> _Sandbox:
    env = _Sandbox(undefined=StrictUndefined, autoescape=html, finalize=_finalize)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in FILTERS}
    return env


TEXT_ENV = _environment(html=False)
HTML_ENV = _environment(html=True)


def environment(html: bool) -> ImmutableSandboxedEnvironment:
    """The sandbox for HTML parts (every value escaped) or for text parts and subjects."""
    return HTML_ENV if html else TEXT_ENV


@lru_cache(maxsize=512)
def compiled(source: str, html: bool) -> Template:
    """The template compiled once per source text. :raise TemplateSyntaxError:"""
    return environment(html).from_string(source)


@dataclass(frozen=True)
class CampaignInfo:
    name: str
    slug: str
    url: str = ""

    def as_mapping(self) -> dict[str, str]:
        return {"name": self.name, "slug": self.slug, "url": self.url}


@dataclass(frozen=True)
class Friend:
    """A friend who joined through the customer's link (their name, never their address)."""

    name: str
    joined_on: date


@dataclass(frozen=True)
class SurveyAnswer:
    """The customer's answer to the question ``question`` (its key): text, a number, or
    the options chosen joined by ", ". Answers to anonymous surveys are never shown."""

    question: str
    answer: str | int
    anonymous: bool = False


@dataclass(frozen=True)
class MessageContext:
    """Everything a message may say about its customer."""

    customer_name: str
    locale: str = DEFAULT_LOCALE
    campaign: CampaignInfo | None = None
    campaigns: Sequence[CampaignInfo] = ()
    points: int = 0
    rank: int | None = None
    next_milestone: int | None = None
    confirmed: int = 0
    referral_link: str = ""
    qr_url: str = ""
    friends: Sequence[Friend] = ()  # the latest first; the first FRIENDS_MAX are shown
    answers: Sequence[SurveyAnswer] = ()
    unsubscribe_url: str = ""
    preferences_url: str = ""
    privacy_url: str = ""

    def as_mapping(self) -> dict[str, Any]:
        """The template context (plain dictionaries, lists and values only)."""
        name = self.customer_name.strip()
        milestone = None
        if self.next_milestone is not None:
            remaining = max(self.next_milestone - self.confirmed, 0)
            milestone = {"target": self.next_milestone, "remaining": remaining}
        return {
            "customer": {
                "name": name,
                "first_name": name.split()[0] if name else "",
                "locale": self.locale,
            },
            "campaign": self.campaign.as_mapping() if self.campaign else None,
            "campaigns": [c.as_mapping() for c in self.campaigns],
            "points": self.points,
            "rank": self.rank,
            "next_milestone": milestone,
            "referral_link": self.referral_link,
            "qr_url": self.qr_url,
            "friends": [
                {"name": f.name, "joined_on": f.joined_on.isoformat()}
                for f in self.friends[:FRIENDS_MAX]
            ],
            "friends_count": len(self.friends),
            "answers": {a.question: a.answer for a in self.answers if not a.anonymous},
            "unsubscribe_url": self.unsubscribe_url,
            "preferences_url": self.preferences_url,
            "privacy_url": self.privacy_url,
        }


def sample_context(question_keys: Collection[str] = ()) -> dict[str, Any]:
    """Made-up values for every name, to check and preview a template with."""
    campaign = CampaignInfo("Spring referral", "spring", "https://example.com/c/spring")
    context = MessageContext(
        customer_name="Anna Jansen",
        campaign=campaign,
        campaigns=(campaign,),
        points=120,
        rank=4,
        next_milestone=5,
        confirmed=3,
        referral_link="https://example.com/r/ANNA42",
        qr_url="https://example.com/r/ANNA42/qr.svg",
        friends=(Friend("Ben", date(2026, 3, 1)), Friend("Chloé", date(2026, 3, 9))),
        answers=tuple(SurveyAnswer(key, "…") for key in question_keys),
        unsubscribe_url="https://example.com/u/sample",
        preferences_url="https://example.com/p/sample",
        privacy_url="https://example.com/privacy/sample",
    )
    return context.as_mapping()


def check(
    source: str,
    *,
    html: bool = False,
    question_keys: Collection[str] = (),
    fields: Mapping[str, frozenset[str] | None] = CONTEXT_FIELDS,
    sample: Mapping[str, Any] | None = None,
) -> list[Message]:
    """Every problem of a template, to show when it is saved; empty when it is fine.

    ``fields`` and ``sample`` are the names a kind of message may use and made-up values
    for them (a journey message's by default).
    """
    if len(source) > SOURCE_MAX:
        return [Message(TOO_LONG, {"max": SOURCE_MAX})]
    try:
        tree = environment(html).parse(source)
        compiled(source, html)
    except TemplateSyntaxError as exc:
        return [Message(SYNTAX, {"line": exc.lineno, "error": exc.message or str(exc)})]
    problems = [
        *_forbidden(tree),
        *_unknown_names(tree, fields),
        *_unknown_fields(tree, question_keys, fields),
    ]
    if problems:
        return problems
    try:
        _render(source, sample_context(question_keys) if sample is None else sample, html)
    except TemplateFailed as exc:
        return [Message(SAMPLE_FAILED, {"error": exc.params.get("error", exc.message)})]
    return []


def _forbidden(tree: nodes.Template) -> Iterator[Message]:
    seen: set[str] = set()
    for kind, what in FORBIDDEN_NODES:
        if what not in seen and any(True for _node in tree.find_all(kind)):
            seen.add(what)
            yield Message(FORBIDDEN, {"what": what})
    if any(loop.recursive for loop in tree.find_all(nodes.For)):
        yield Message(FORBIDDEN, {"what": "{% for … recursive %}"})


def _unknown_names(
    tree: nodes.Template, fields: Mapping[str, frozenset[str] | None]
) -> Iterator[Message]:
    names = ", ".join(fields)
    for name in sorted(meta.find_undeclared_variables(tree) - set(fields)):
        yield Message(UNKNOWN_NAME, {"name": name, "names": names})


def _unknown_fields(
    tree: nodes.Template,
    question_keys: Collection[str],
    fields: Mapping[str, frozenset[str] | None],
) -> Iterator[Message]:
    reported: set[tuple[str, str]] = set()
    for name, key in _fields_read(tree, fields):
        if (name, key) in reported:
            continue
        reported.add((name, key))
        if name == "answers" and key not in question_keys:
            yield Message(UNKNOWN_QUESTION, {"key": key})
        known = fields.get(name)
        if known is not None and key not in known:
            listed = ", ".join(sorted(known))
            yield Message(UNKNOWN_FIELD, {"name": name, "field": key, "fields": listed})


def _fields_read(
    tree: nodes.Template, fields: Mapping[str, frozenset[str] | None]
) -> Iterator[tuple[str, str]]:
    """(name, field) for each ``name.field`` and ``name["field"]`` on a context name."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            key = node.arg.value
        else:
            continue
        target = getattr(node, "node", None)
        if isinstance(target, nodes.Name) and target.name in fields and isinstance(key, str):
            yield target.name, key


def render(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """The template written out for one customer.

    :raise TemplateFailed: when it does not compile, reads something the context lacks,
        breaks a sandbox rule, or writes more than ``OUTPUT_MAX`` characters.
    """
    return _render(source, context, html)


def _render(source: str, context: Mapping[str, Any], html: bool) -> str:
    try:
        written = compiled(source, html).render(dict(context))
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateFailed(RENDER_FAILED, params={"error": str(exc)}) from exc
    except RecursionError as exc:
        raise TemplateFailed(RENDER_FAILED, params={"error": "too deeply nested"}) from exc
    if len(written) > OUTPUT_MAX:
        raise TemplateFailed(OUTPUT_TOO_LONG, params={"max": OUTPUT_MAX})
    return written


@dataclass(frozen=True)
class MessageParts:
    """One locale's message: a subject line, a text part and an optional HTML part."""

    subject: str
    text: str
    html: str = ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def check_message(
    parts: MessageParts,
    question_keys: Collection[str] = (),
    fields: Mapping[str, frozenset[str] | None] = CONTEXT_FIELDS,
    sample: Mapping[str, Any] | None = None,
) -> dict[str, list[Message]]:
    """Problems per part (``subject``, ``text``, ``html``); empty when all are fine (names
    and sample values as for :func:`check`)."""
    problems: dict[str, list[Message]] = {}
    if not parts.subject.strip():
        problems["subject"] = [Message(EMPTY_SUBJECT)]
    elif len(parts.subject) > SUBJECT_MAX:
        problems["subject"] = [Message(TOO_LONG, {"max": SUBJECT_MAX})]
    if not parts.text.strip():
        problems["text"] = [Message(EMPTY_TEXT)]
    for name, source, html in (
        ("subject", parts.subject, False),
        ("text", parts.text, False),
        ("html", parts.html, True),
    ):
        found = (
            check(source, html=html, question_keys=question_keys, fields=fields, sample=sample)
            if source.strip()
            else []
        )
        if found and name not in problems:
            problems[name] = found
    return problems


_SPACE = re.compile(r"\s+")


def render_message(parts: MessageParts, context: Mapping[str, Any]) -> Rendered:
    """The message for one customer. The subject is one line (every run of white space,
    line breaks included, becomes one space), so it can never add a mail header.

    :raise TemplateFailed: see :func:`render`.
    """
    subject = _SPACE.sub(" ", render(parts.subject, context)).strip()[:SUBJECT_MAX]
    text = render(parts.text, context)
    html = render(parts.html, context, html=True) if parts.html.strip() else None
    return Rendered(subject, text, html)


def _parents(locale: str) -> list[str]:
    """``de_AT`` → ``de_AT``, ``de``; ``zh-Hant-TW`` → ``zh_Hant_TW``, ``zh_Hant``, ``zh``."""
    pieces = locale.replace("-", "_").split("_")
    return ["_".join(pieces[:end]) for end in range(len(pieces), 0, -1)]


def choose_locale(
    available: Collection[str], customer_locale: str | None, campaign_locales: Sequence[str]
) -> str | None:
    """Which of the ``available`` locales to write in: the customer's (or its language),
    else the campaign's first locale, else the first of the service's locales that is
    available; None when there is no template at all."""
    candidates = [
        *(_parents(customer_locale) if customer_locale else []),
        *campaign_locales[:1],
        *LOCALES,
    ]
    found = next((c for c in candidates if c in available), None)
    return found if found is not None else min(available, default=None)
