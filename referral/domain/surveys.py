"""Surveys as plain values: what a question may look like, which answers a participant may
give, and what the answers add up to (distributions, means, the Net Promoter Score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from referral.domain.errors import N_, Message, ValidationFailed

QUESTION_KINDS = ("single", "multiple", "rating", "nps", "short_text", "long_text")
CHOICE_KINDS = ("single", "multiple")
TEXT_KINDS = ("short_text", "long_text")
SCALES = {"rating": (1, 5), "nps": (0, 10)}
PROMPT_MAX = 300
OPTION_MAX = 200
OPTIONS_MIN, OPTIONS_MAX = 2, 20
QUESTIONS_MAX = 50
TEXT_MAX = {"short_text": 200, "long_text": 5000}
INTRO_MAX = 2000
QUOTA_MAX = 1_000_000


@dataclass(frozen=True)
class QuestionDraft:
    """A question as the builder will store it (cleaned)."""

    kind: str
    prompt: str
    required: bool
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionSpec:
    """A stored question, enough to check answers against it."""

    id: int
    kind: str
    required: bool
    option_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Answer:
    """A valid answer to one question: chosen options, a number or a text."""

    question_id: int
    option_ids: tuple[int, ...] = ()
    number: int | None = None
    text: str | None = None


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text)


def clean_question(kind: str, prompt: str, required: bool, options: Sequence[str]) -> QuestionDraft:
    """A builder question made valid, or every reason it is not.

    Choice questions need 2 to 20 distinct, non-empty options (blank lines are dropped);
    the other kinds take none. Prompts are 1 to 300 characters, options 1 to 200.

    :raise ValidationFailed: naming ``kind``, ``prompt`` or ``options``.
    """
    errors: dict[str, list[str | Message]] = {}
    if kind not in QUESTION_KINDS:
        errors["kind"] = [N_("Choose a kind of question.")]
    text = (prompt or "").strip()
    if not text:
        errors["prompt"] = [N_("Write the question.")]
    elif len(text) > PROMPT_MAX or _has_control(text):
        errors["prompt"] = [
            Message(N_("Keep the question to %(max)s characters."), {"max": PROMPT_MAX})
        ]
    cleaned = tuple(o.strip() for o in options if o and o.strip())
    if kind in CHOICE_KINDS:
        problem = _option_problem(cleaned)
        if problem is not None:
            errors["options"] = [problem]
    elif cleaned and kind in QUESTION_KINDS:
        errors["options"] = [N_("Only choice questions have options: leave this empty.")]
    if errors:
        raise ValidationFailed(N_("The question is not valid."), errors)
    return QuestionDraft(kind, text, bool(required), cleaned if kind in CHOICE_KINDS else ())


def _option_problem(options: tuple[str, ...]) -> Message | None:
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        return Message(
            N_("Give %(min)s to %(max)s options, one per line."),
            {"min": OPTIONS_MIN, "max": OPTIONS_MAX},
        )
    if any(len(o) > OPTION_MAX or _has_control(o) for o in options):
        return Message(N_("Keep each option to %(max)s characters."), {"max": OPTION_MAX})
    if len({o.casefold() for o in options}) != len(options):
        return Message(N_("Each option may appear only once."))
    return None


def clean_settings(anonymous: bool, quota: int | None, intro: str) -> tuple[bool, int | None, str]:
    """Survey settings made valid. :raise ValidationFailed: naming ``quota`` or ``intro``."""
    errors: dict[str, list[str | Message]] = {}
    if quota is not None and (isinstance(quota, bool) or not 1 <= quota <= QUOTA_MAX):
        errors["quota"] = [Message(N_("Use a whole number from 1 to %(max)s."), {"max": QUOTA_MAX})]
    text = (intro or "").strip()
    if len(text) > INTRO_MAX:
        errors["intro"] = [
            Message(N_("Keep the introduction to %(max)s characters."), {"max": INTRO_MAX})
        ]
    if errors:
        raise ValidationFailed(N_("Some fields are not valid."), errors)
    return bool(anonymous), quota, text


def field_name(question_id: int) -> str:
    """The form field of a question's answer."""
    return f"q{question_id}"


def _whole(raw: str) -> int | None:
    raw = raw.strip()
    if not raw or len(raw) > 9 or not raw.isascii():
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _choice(question: QuestionSpec, raw: list[str]) -> Answer | Message:
    picked = [_whole(value) for value in raw if value.strip()]
    if any(p is None or p not in question.option_ids for p in picked):
        return Message(N_("Choose one of the options of this question."))
    unique = tuple(dict.fromkeys(p for p in picked if p is not None))
    if question.kind == "single" and len(unique) > 1:
        return Message(N_("Choose only one option."))
    return Answer(question.id, option_ids=unique)


def _scale(question: QuestionSpec, raw: list[str]) -> Answer | Message:
    low, high = SCALES[question.kind]
    values = [value for value in raw if value.strip()]
    number = _whole(values[0]) if len(values) == 1 else None
    if number is None or not low <= number <= high:
        return Message(N_("Choose a number from %(low)s to %(high)s."), {"low": low, "high": high})
    return Answer(question.id, number=number)


def _text(question: QuestionSpec, raw: list[str]) -> Answer | Message:
    text = "\n".join(value.strip() for value in raw if value.strip())
    limit = TEXT_MAX[question.kind]
    if len(text) > limit:
        return Message(N_("Keep your answer to %(max)s characters."), {"max": limit})
    if "\x00" in text:
        return Message(N_("Remove the NUL character from your answer."))
    return Answer(question.id, text=text)


def _given(raw: list[str]) -> bool:
    return any(value.strip() for value in raw)


def parse_answers(questions: Sequence[QuestionSpec], form: Mapping[str, list[str]]) -> list[Answer]:
    """The answers of a submitted survey, one per answered question in question order.

    ``form`` maps field names (:func:`field_name`) to the submitted values. A required
    question must be answered; an optional one may be left out. A choice names an option
    *of that question*: an option id of another question is an error like any unknown one.
    Fields that name no question are ignored.

    :raise ValidationFailed: with one message per bad field; nothing is returned then.
    """
    errors: dict[str, list[str | Message]] = {}
    answers: list[Answer] = []
    for question in questions:
        name = field_name(question.id)
        raw = [str(v) for v in form.get(name, [])]
        if not _given(raw):
            if question.required:
                errors[name] = [N_("Please answer this question.")]
            continue
        if question.kind in CHOICE_KINDS:
            found = _choice(question, raw)
        elif question.kind in SCALES:
            found = _scale(question, raw)
        else:
            found = _text(question, raw)
        if isinstance(found, Message):
            errors[name] = [found]
        else:
            answers.append(found)
    if errors:
        raise ValidationFailed(N_("Some answers need your attention."), errors)
    return answers


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Nps:
    """Net Promoter Score: promoters (9-10) minus detractors (0-6), in percent of all
    scores; passives (7-8) count only in the total. ``score`` is None without scores."""

    promoters: int
    passives: int
    detractors: int
    total: int
    score: float | None


def nps(counts: Mapping[int, int]) -> Nps:
    """The NPS of scores given as ``{score: how many}``; scores outside 0-10 are ignored.

    Rounded to one decimal: 3 promoters, 1 passive, 2 detractors → (3 − 2) / 6 = 16.7.
    """
    promoters = sum(n for score, n in counts.items() if 9 <= score <= 10)
    passives = sum(n for score, n in counts.items() if 7 <= score <= 8)
    detractors = sum(n for score, n in counts.items() if 0 <= score <= 6)
    total = promoters + passives + detractors
    score = round(100 * (promoters - detractors) / total, 1) if total else None
    return Nps(promoters, passives, detractors, total, score)


@dataclass
class QuestionResult:
    """What one question's answers add up to.

    ``counts`` is ordered for display: option id → count for choices, each scale point →
    count for ratings and NPS. ``answered`` counts responses with an answer to it.
    """

    question_id: int
    kind: str
    answered: int
    counts: dict[int, int] = field(default_factory=dict)
    mean: float | None = None
    nps: Nps | None = None
    texts: list[str] = field(default_factory=list)


def question_result(
    question: QuestionSpec,
    answered: int,
    counts: Mapping[int, int],
    texts: Sequence[str] = (),
) -> QuestionResult:
    """Counts per option or scale point (zeros included), the mean of a scale and the
    NPS of an NPS question. For multiple choice the counts add up to more than
    ``answered``: one response may pick several options."""
    result = QuestionResult(question.id, question.kind, answered, texts=list(texts))
    if question.kind in CHOICE_KINDS:
        result.counts = {oid: int(counts.get(oid, 0)) for oid in question.option_ids}
    elif question.kind in SCALES:
        low, high = SCALES[question.kind]
        result.counts = {point: int(counts.get(point, 0)) for point in range(low, high + 1)}
        total = sum(result.counts.values())
        weighted = sum(point * n for point, n in result.counts.items())
        result.mean = round(weighted / total, 2) if total else None
        if question.kind == "nps":
            result.nps = nps(result.counts)
    return result
