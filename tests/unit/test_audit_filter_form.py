"""The audit log's filter form as a pure rule: a bad date, an unknown outcome or action, an
end before the start and a too long actor are refused before the log is read. A bare Flask
app with Babel is enough: no database, no routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from referral.admin.audit import AuditFilterForm


@pytest.fixture
def form_app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit")
    Babel(app)
    with app.test_request_context():
        yield app


def form_of(query: dict[str, str]) -> AuditFilterForm:
    form = AuditFilterForm(MultiDict(query))
    form.action.choices = [SelectChoice("", "Any"), SelectChoice("export.ledger", "export.ledger")]
    form.outcome.choices = [SelectChoice(o, o) for o in ("", "ok", "denied")]
    return form


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-13-40"}, "date_from"),
        ({"outcome": "exploded"}, "outcome"),
        ({"action": "no.such.action"}, "action"),
        ({"date_from": "2026-03-11", "date_to": "2026-03-10"}, "date_to"),
        ({"actor": "x" * 121}, "actor"),
    ],
)
def test_a_bad_filter_is_refused_on_its_field(
    form_app: Flask, query: dict[str, str], field: str
) -> None:
    form = form_of(query)
    assert not form.validate()
    assert list(form.errors) == [field]


def test_good_filters_become_the_services_filters(form_app: Flask) -> None:
    form = form_of({"action": "export.ledger", "outcome": "denied", "actor": "  ann ",
                    "date_from": "2026-03-10", "date_to": "2026-03-10"})  # fmt: skip
    assert form.validate(), form.errors
    filters = form.filters()
    assert (filters.action, filters.outcome, filters.actor) == ("export.ledger", "denied", "ann")
    assert filters.date_from == filters.date_to == date(2026, 3, 10)
    assert form_of({}).validate() and form_of({}).filters().as_data() == {}
