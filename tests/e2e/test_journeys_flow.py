"""A marketer builds a journey from a starter in the browser, a customer confirms their
address, the runner walks them through it, and the journey page shows the figures."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral.extensions import db
from referral.models import Marketer, Membership, OutboxMessage, Workspace
from referral.models.base import utcnow
from referral.services.confirmation import confirm_participation
from referral.services.journey_runner import run_due
from tests.e2e.conftest import VIEWPORTS, LiveServer, assert_clean, page_width
from tests.factories import Factory
from tests.services.journey_setup import give_consent

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page: Any) -> None:
    width = page_width(page)
    assert width <= VIEWPORTS["phone"]["width"], f"{page.url} scrolls sideways ({width}px)"


def test_a_marketer_builds_a_journey_from_a_starter_and_sees_its_figures(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, owner: Marketer
) -> None:
    workspace = db.session.scalar(
        select(Workspace).join(Membership).where(Membership.marketer_id == owner.id)
    )
    assert workspace is not None
    page.goto(live_server("/admin/journeys"))
    expect(page.get_by_text("No journeys yet.")).to_be_visible()
    page.get_by_test_id("new-journey").click()
    page.get_by_test_id("starter-welcome").click()
    expect(page.locator("#definition")).to_contain_text('"signup_confirmed"')
    expect(page.get_by_test_id("journey-steps")).to_contain_text("Sends the message welcome")
    _no_sideways_scroll(page)
    page.locator("#status").select_option("running")
    page.get_by_role("button", name="Save journey").click()
    expect(page.get_by_test_id("journey-status")).to_have_text("Running")
    expect(page.get_by_test_id("figure-entered")).to_have_text("0")

    # A customer of the workspace, opted in to marketing, confirms their address.
    live = factory.campaign(workspace, status="live", name="Spring referral")
    anna = factory.customer(workspace, email="anna@example.org")
    anna.name = "Anna Jansen"
    give_consent(anna, "marketing", utcnow())
    db.session.commit()
    participation = factory.participation(live, customer=anna)
    confirm_participation(participation)
    assert run_due() == 1

    page.reload()
    expect(page.get_by_test_id("figure-entered")).to_have_text("1")
    expect(page.get_by_test_id("figure-sent")).to_have_text("1")
    expect(page.get_by_test_id("step-figures").locator("tr[data-step='welcome']")).to_contain_text(
        "1"
    )
    expect(page.get_by_test_id("journey-chart")).to_be_visible()
    _no_sideways_scroll(page)

    db.session.rollback()
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "journey:marketing")
    ).all()
    assert (mail.to_address, mail.subject) == ("anna@example.org", "Welcome, Anna!")

    page.goto(live_server(f"/admin/customers/{anna.id}"))
    expect(page.get_by_test_id("journey-timeline")).to_contain_text("message sent")

    # The message gets an HTML part; its preview for Anna shows it rendered, in a sandbox.
    page.goto(live_server("/admin/journeys/messages/welcome/en"))
    page.get_by_role("link", name="Edit").click()
    page.locator("#html").fill('<h1 style="color: #3346d3">Hello {{ customer.first_name }}</h1>')
    page.get_by_role("button", name="Save").click()
    page.locator("#customer").select_option(str(anna.id))
    page.get_by_role("button", name="Show preview").click()
    frame = page.frame_locator("[data-testid=preview-html]")
    expect(frame.locator("h1")).to_have_text("Hello Anna")
    sandbox = page.get_by_test_id("preview-html").get_attribute("sandbox")
    assert sandbox == ""  # no script, no same origin, no form
    _no_sideways_scroll(page)
    assert_clean(page_errors)
