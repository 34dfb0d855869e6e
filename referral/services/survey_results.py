"""What a survey's answers add up to: results per question, pygal charts and the CSV export.

Grouped queries only (a few per survey, one per text question for its latest answers), so
results stay quick with many thousands of responses. An anonymous survey's responses hold
no participation, so neither results nor the export can name anyone.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pygal
from sqlalchemy import distinct, func, select

from referral.domain import surveys as rules
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Customer,
    Marketer,
    Participation,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from referral.services.dashboard import _SCRIPT, _STYLE
from referral.services.exports import safe_cell
from referral.services.surveys import response_count, specs

TEXTS_SHOWN = 20


@dataclass
class SurveyResults:
    responses: int
    questions: list[tuple[SurveyQuestion, rules.QuestionResult]]


def _latest_texts(question: SurveyQuestion) -> list[str]:
    return list(
        db.session.scalars(
            select(SurveyAnswer.text)
            .where(SurveyAnswer.question_id == question.id, SurveyAnswer.text.is_not(None))
            .order_by(SurveyAnswer.id.desc())
            .limit(TEXTS_SHOWN)
        )
    )


def results(survey: Survey | None, only: SurveyQuestion | None = None) -> SurveyResults:
    """Per question (or ``only`` one): how many answered it, counts per option or scale
    point, the mean of a scale, the NPS of an NPS question and the latest text answers."""
    if survey is None:
        return SurveyResults(0, [])
    pairs = [(q, s) for q, s in zip(survey.questions, specs(survey), strict=True)]
    if only is not None:
        pairs = [(q, s) for q, s in pairs if q.id == only.id]
    ids = [q.id for q, _spec in pairs]
    answered = dict(
        db.session.execute(
            select(SurveyAnswer.question_id, func.count(distinct(SurveyAnswer.response_id)))
            .where(SurveyAnswer.question_id.in_(ids))
            .group_by(SurveyAnswer.question_id)
        ).all()
    )
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for qid, option_id, number, n in db.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.number, func.count())
        .where(SurveyAnswer.question_id.in_(ids), SurveyAnswer.text.is_(None))
        .group_by(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.number)
    ):
        key = option_id if option_id is not None else number
        if key is not None:
            counts[qid][key] = int(n)
    rows = []
    for question, spec in pairs:
        texts = _latest_texts(question) if question.kind in rules.TEXT_KINDS else []
        result = rules.question_result(
            spec, int(answered.get(question.id, 0)), counts[question.id], texts
        )
        rows.append((question, result))
    return SurveyResults(response_count(survey), rows)


# --- charts ----------------------------------------------------------------------------


def chart_svg(question: SurveyQuestion, result: rules.QuestionResult, no_data: str) -> str:
    """A question's answers as a stand-alone SVG bar chart (no script), or an empty chart
    saying ``no_data``. Text questions have no chart: their answers are listed instead."""
    options = {
        "style": _STYLE,
        "title": question.prompt[:80],
        "no_data_text": no_data,
        "disable_xml_declaration": True,
        "js": [],
        "width": 720,
        "height": 360,
        "show_legend": False,
        "print_values": True,
        "value_formatter": lambda v: "" if v is None else f"{v:,.0f}",
    }
    if question.kind in rules.CHOICE_KINDS:
        labels = {o.id: o.label for o in question.options}
        chart = pygal.HorizontalBar(truncate_label=40, **options)
        chart.x_labels = [labels[oid] for oid in reversed(list(result.counts))]
        values = list(reversed(list(result.counts.values())))
    else:
        chart = pygal.Bar(**options)
        chart.x_labels = [str(point) for point in result.counts]
        values = list(result.counts.values())
    top = max(values, default=0)
    step = max(1, math.ceil(top / 8))
    chart.y_labels = list(range(0, top + step + 1, step))  # whole numbers only: these are counts
    chart.add(question.prompt[:40], values if result.answered else [])
    return _SCRIPT.sub("", chart.render())


# --- export ----------------------------------------------------------------------------


def _cell(question: SurveyQuestion, found: list[SurveyAnswer]) -> object:
    if question.kind in rules.CHOICE_KINDS:
        labels = {o.id: o.label for o in question.options}
        return "; ".join(labels.get(a.option_id, "") for a in found if a.option_id)
    if not found:
        return None
    return found[0].number if found[0].number is not None else found[0].text


def _contacts(survey: Survey) -> dict[int, tuple[Any, ...]]:
    """Per response of a named survey: participation, customer, address and name."""
    if survey.anonymous:
        return {}
    rows = db.session.execute(
        select(
            SurveyResponse.id,
            Participation.id,
            Customer.id,
            Customer.email_display,
            Customer.name,
        )
        .join(Participation, Participation.id == SurveyResponse.participation_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(SurveyResponse.survey_id == survey.id)
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def export_csv(campaign: Campaign, survey: Survey | None, marketer: Marketer | None) -> bytes:
    """Every response, oldest first, one column per question (choices joined by "; "),
    as CSV whose cells a spreadsheet cannot run as formulas; logged in the audit log.

    A named survey adds participation, customer, e-mail and name; an anonymous one has
    none of them (its responses hold no link to a person)."""
    questions = list(survey.questions) if survey is not None else []
    named = survey is not None and not survey.anonymous
    header = ["response_id", "submitted_at"]
    if named:
        header += ["participation_id", "customer_id", "email", "name"]
    header += [f"Q{i}. {q.prompt}" for i, q in enumerate(questions, start=1)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    if survey is not None:
        _write_rows(writer, survey, questions, named)
    db.session.add(
        AuditEntry(
            workspace_id=campaign.workspace_id,
            marketer_id=marketer.id if marketer else None,
            action="export.survey",
            subject=f"campaign:{campaign.id}",
            data={"anonymous": not named},
        )
    )
    db.session.commit()
    return buffer.getvalue().encode("utf-8")


def _write_rows(writer: Any, survey: Survey, questions: list[SurveyQuestion], named: bool) -> None:
    answers: dict[int, dict[int, list[SurveyAnswer]]] = defaultdict(lambda: defaultdict(list))
    for answer in db.session.scalars(
        select(SurveyAnswer)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyAnswer.id)
    ):
        answers[answer.response_id][answer.question_id].append(answer)
    contacts = _contacts(survey) if named else {}
    responses = db.session.execute(
        select(SurveyResponse.id, SurveyResponse.created_at)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyResponse.id)
    )
    for rid, created_at in responses:
        row: list[object] = [rid, created_at]
        if named:
            row += list(contacts.get(rid, (None, None, None, None)))
        row += [_cell(q, answers[rid][q.id]) for q in questions]
        writer.writerow([safe_cell(v) for v in row])
