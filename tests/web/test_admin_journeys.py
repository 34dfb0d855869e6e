"""The journey pages: building a journey (from a starter), a refused definition shown at its
step, roles, another workspace's journey, pause and resume, the figures, message templates
checked on save, their preview for a real customer and a test mail through the outbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, OutboxMessage, Workspace
from referral.models.journey import Journey, MessageTemplate
from referral.services import survey_builder
from referral.services.journey_admin import preview_message
from referral.services.journey_runner import run_due
from referral.services.journey_starters import STARTERS
from referral.services.journey_templates import save_template
from tests.conftest import Browser
from tests.factories import Factory
from tests.services.journey_setup import T0, Shop, end, make_shop, send
from tests.web.conftest import count, text_of

PAGE = "/admin/journeys"
WELCOME = {
    "trigger": {"type": "event", "event": "signup_confirmed"},
    "steps": [send("hello"), end()],
}


def signed_in_shop(factory: Factory, login_as: Any, role: str = "owner") -> Shop:
    shop = make_shop(factory)
    login_as(role, workspace=db.session.get(Workspace, shop.workspace_id))
    return shop


def save_new(
    browser: Browser, definition: Any, form_page: str = f"{PAGE}/new", **fields: Any
) -> Any:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    data = {"name": "Welcome", "campaign_id": "", "status": "running", "definition": text}
    return browser.post(f"{PAGE}/new", {**data, **fields}, form_page=form_page)


def test_an_owner_creates_a_valid_journey_and_sees_it_listed(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as)
    response = save_new(browser, WELCOME)
    assert response.status_code == 302, response.get_data(as_text=True)
    journey = db.session.scalar(select(Journey))
    assert journey is not None
    assert (journey.workspace_id, journey.status, journey.version) == (
        shop.workspace_id,
        "running",
        1,
    )
    assert response.headers["Location"].endswith(f"{PAGE}/{journey.id}")
    listing = text_of(browser.client.get(PAGE))
    assert "Welcome" in listing and "When the event signup_confirmed is recorded" in listing


def test_a_starter_prefills_the_editor_and_saving_it_writes_its_messages(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    login_as("owner")
    page = browser.client.get(f"{PAGE}/new?starter=win_back")
    assert page.status_code == 200
    html = text_of(page)
    assert "Win-back after 30 days" in html and '"inactivity"' in html
    assert "Waits up to 14 days for the event purchase" in html
    definition = json.dumps(
        {
            "trigger": {"type": "inactivity", "days": 30},
            "steps": [send("miss_you", "win_back"), end()],
        }
    )
    no_exit = {"trigger": {"type": "inactivity", "days": 30}, "steps": [send("x", "win_back")]}
    refused = save_new(browser, no_exit, starter="win_back")
    assert refused.status_code == 422
    assert count(MessageTemplate) == 0
    response = save_new(browser, definition, starter="win_back")
    assert response.status_code == 302, response.get_data(as_text=True)
    keys = db.session.scalars(select(MessageTemplate.key)).all()
    assert keys == ["win_back"]


def test_an_invalid_definition_answers_422_naming_the_step_and_stores_nothing(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    signed_in_shop(factory, login_as)
    broken = {
        "trigger": {"type": "event", "event": "signup_confirmed"},
        "steps": [send("hello", next="nowhere"), {"id": "orphan", "type": "exit"}],
    }
    response = save_new(browser, broken)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The journey is not valid: see step hello." in text_of(response)
    assert 'class="journey-step has-error" id="step-0" data-step="hello"' in html
    assert 'href="#step-0" data-testid="faulty-step"' in html
    assert count(Journey) == 0


def test_a_definition_that_is_not_json_answers_422_with_the_line(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    signed_in_shop(factory, login_as)
    response = save_new(browser, '{"trigger": ')
    assert response.status_code == 422
    assert "This is not valid JSON: line 1" in text_of(response)
    assert count(Journey) == 0


def test_a_viewer_reads_journeys_but_cannot_create_edit_or_pause(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as, role="viewer")
    journey = shop.journey([send("hello"), end()])
    assert browser.client.get(PAGE).status_code == 200
    assert browser.client.get(f"{PAGE}/{journey.id}").status_code == 200
    assert browser.client.get(f"{PAGE}/new").status_code == 403
    assert browser.client.get(f"{PAGE}/{journey.id}/edit").status_code == 403
    assert save_new(browser, WELCOME, form_page=PAGE).status_code == 403
    edit = {"name": "Renamed", "campaign_id": "", "definition": json.dumps(WELCOME)}
    assert browser.post(f"{PAGE}/{journey.id}/edit", edit, form_page=PAGE).status_code == 403
    assert browser.post(f"{PAGE}/{journey.id}/pause", form_page=PAGE).status_code == 403
    db.session.refresh(journey)
    assert (journey.name, journey.status) == ("Welcome", "running")


def test_another_workspaces_journey_answers_404_on_every_route(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    other = make_shop(factory).journey([send("hello"), end()])
    login_as("owner")
    for path in (f"{PAGE}/{other.id}", f"{PAGE}/{other.id}/edit"):
        assert browser.client.get(path).status_code == 404
    for action in ("pause", "resume"):
        assert browser.post(f"{PAGE}/{other.id}/{action}", form_page=PAGE).status_code == 404
    db.session.refresh(other)
    assert other.status == "running"
    traces = db.session.scalars(
        select(AuditEntry.subject).where(AuditEntry.action == "access.other_workspace")
    ).all()
    assert f"journey:{other.id}" in traces


def test_an_editor_pauses_and_resumes_a_journey(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as, role="editor")
    journey = shop.journey([send("hello"), end()])
    assert browser.post(f"{PAGE}/{journey.id}/pause", form_page=PAGE).status_code == 302
    db.session.refresh(journey)
    assert journey.status == "paused"
    assert "Resume" in text_of(browser.client.get(f"{PAGE}/{journey.id}"))
    assert browser.post(f"{PAGE}/{journey.id}/resume", form_page=PAGE).status_code == 302
    db.session.refresh(journey)
    assert journey.status == "running"


def test_editing_saves_a_new_version_and_the_page_shows_figures_and_history(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as)
    journey = shop.journey([send("hello"), end()])
    shop.event(shop.person(name="Anna Jansen"), "signup_confirmed")
    shop.event(shop.person(name="Ben Bakker", consent=False), "signup_confirmed")
    run_due(T0)
    changed = {**WELCOME, "steps": [send("hi"), end()]}
    edit = {"name": "Hello", "campaign_id": "", "definition": json.dumps(changed)}
    response = browser.post(f"{PAGE}/{journey.id}/edit", edit, form_page=PAGE)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = browser.client.get(f"{PAGE}/{journey.id}")
    html = page.get_data(as_text=True)
    assert 'data-testid="figure-entered">2<' in html
    assert 'data-testid="figure-sent">1<' in html
    assert "no consent: 1" in text_of(page)
    assert 'data-testid="journey-chart"' in html
    db.session.refresh(journey)
    assert (journey.name, journey.version) == ("Hello", 2)
    assert "(current)" in text_of(page)


def test_a_message_that_does_not_pass_the_check_answers_422_with_the_reason(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    login_as("owner")
    data = {
        "key": "welcome",
        "locale": "de",
        "subject": "Hallo {{ customer.nickname }}",
        "text": "Danke {{ customer.name.upper() }}",
        "html": "",
    }
    page = f"{PAGE}/messages/edit"
    response = browser.post(page, data, form_page=page)
    assert response.status_code == 422
    shown = text_of(response)
    assert "customer has no nickname" in shown
    assert count(MessageTemplate) == 0
    good = {**data, "subject": "Hallo {{ customer.first_name }}", "text": "Danke!"}
    assert browser.post(page, good, form_page=page).status_code == 302
    assert count(MessageTemplate) == 1


def test_the_preview_is_written_for_the_chosen_customer(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as, role="viewer")
    anna = shop.person(name="Anna Jansen")
    page = browser.client.get(f"{PAGE}/messages/welcome/en?customer={anna.customer_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="preview-subject">Welcome, Anna<' in html
    assert "Thanks for joining Spring referral." in html
    other = factory.customer(factory.workspace())
    foreign = browser.client.get(f"{PAGE}/messages/welcome/en?customer={other.id}")
    assert foreign.status_code == 404


def test_the_html_part_is_served_for_a_sandboxed_frame_of_our_own_pages_only(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as, role="viewer")
    anna = shop.person(name="Anna Jansen")
    frame = f"{PAGE}/messages/welcome/en/preview.html?customer={anna.customer_id}"
    assert browser.client.get(frame).status_code == 404  # the message has no HTML part yet
    save_template(
        shop.workspace_id,
        "welcome",
        "en",
        "Welcome",
        "Hi",
        "<p>Hello {{ customer.first_name }}</p>",
    )
    db.session.commit()
    response = browser.client.get(frame)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == "<p>Hello Anna</p>"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    page = browser.client.get(f"{PAGE}/messages/welcome/en?customer={anna.customer_id}")
    assert 'data-testid="preview-html"' in page.get_data(as_text=True)
    assert page.headers["X-Frame-Options"] == "DENY"  # the admin page itself is never framed
    other = factory.customer(factory.workspace())
    foreign = f"{PAGE}/messages/welcome/en/preview.html?customer={other.id}"
    assert browser.client.get(foreign).status_code == 404


def test_send_me_a_test_queues_one_outbox_mail_to_the_marketer(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = make_shop(factory)
    marketer, _ = login_as("editor", workspace=db.session.get(Workspace, shop.workspace_id))
    anna = shop.person(name="Anna Jansen")
    path = f"{PAGE}/messages/welcome/en/test?customer={anna.customer_id}"
    response = browser.post(path, form_page=f"{PAGE}/messages/welcome/en")
    assert response.status_code == 302
    db.session.rollback()
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert (mail.to_address, mail.kind, mail.status, mail.customer_id) == (
        marketer.email,
        "journey_test",
        "queued",
        None,
    )
    assert mail.subject == "Welcome, Anna"


def test_the_customer_page_shows_each_journey_step(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    shop = signed_in_shop(factory, login_as)
    shop.journey([send("hello"), end()])
    ben = shop.person(name="Ben Bakker", consent=False)
    shop.event(ben, "signup_confirmed")
    run_due(T0)
    page = text_of(browser.client.get(f"/admin/customers/{ben.customer_id}"))
    assert "Journey steps" in page
    assert "<strong>skipped</strong>: no consent" in page
    assert "entered the journey" in page and "left at the exit" in page


def test_a_language_not_written_yet_starts_from_the_english_version(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    signed_in_shop(factory, login_as)
    page = browser.client.get(f"{PAGE}/messages/edit?key=second&locale=nl")
    assert page.status_code == 200
    html = text_of(page)
    assert 'value="Still there, {{ customer.first_name }}?"' in html
    assert '<option selected value="nl">' in html


def test_the_message_form_lists_the_survey_answers_a_message_may_quote(
    browser: Browser, factory: Factory, login_as: Any
) -> None:
    _, workspace = login_as("owner")
    survey = factory.campaign(workspace, kind="survey", name="Taste survey")
    question = survey_builder.add_question(
        survey, {"kind": "nps", "prompt": "Recommend us?", "required": True}
    )
    html = text_of(browser.client.get(f"{PAGE}/messages/edit"))
    assert f"<code>answers.q{question.id}</code>: Recommend us?" in html


@pytest.mark.parametrize("starter", [s.key for s in STARTERS])
def test_every_starter_saves_as_it_is_and_its_messages_write_for_a_new_customer(
    browser: Browser, factory: Factory, login_as: Any, starter: str
) -> None:
    _, workspace = login_as("editor")
    page = browser.client.get(f"{PAGE}/new?starter={starter}")
    definition = next(s for s in STARTERS if s.key == starter).fresh_definition()
    assert page.status_code == 200
    response = save_new(browser, definition, starter=starter)
    assert response.status_code == 302, response.get_data(as_text=True)
    someone = factory.customer(workspace)
    for key in db.session.scalars(select(MessageTemplate.key)).all():
        written = preview_message(workspace.id, key, "en", someone.id)
        assert written.subject and written.text
