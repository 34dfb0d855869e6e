"""A marketer rewords the trial reminder in Dutch: from the e-mail texts list to the editor,
a saved version previewed with sample data (text and the sandboxed HTML part), then back to
the built-in text."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.extensions import db
from referral.services import mail_templates
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_trial_reminder_is_reworded_previewed_and_reset(
    live_server: LiveServer, page: Any, page_errors: list[str], factory: Factory, sign_in: SignIn
) -> None:
    marketer, workspace = factory.marketer(role="editor")
    sign_in(page, marketer.email)
    page.goto(live_server("/admin/mails"))
    row = (
        page.get_by_test_id("mail-templates")
        .locator("tr", has_text="Trial reminder")
        .filter(has_text="Nederlands")
    )
    row.get_by_role("link", name="Built-in text").click()
    page.wait_for_url(live_server("/admin/mails/trial_ending/nl"))
    expect(page.get_by_test_id("built-in")).to_be_visible()

    page.get_by_label("Subject").fill("Je proef van {{ campaign.name }} loopt af")
    page.get_by_label("Text").fill(
        "Hoi {{ customer.first_name }}, tot {{ ends_on }}: {{ trial_url }}"
    )
    page.get_by_label("HTML (optional)").fill(
        '<p><a href="{{ trial_url }}">Bekijk je proef</a></p>'
    )
    page.get_by_role("button", name="Save message").click()

    expect(page.get_by_test_id("preview-subject")).to_have_text(
        "Je proef van Spring referral loopt af"
    )
    expect(page.get_by_test_id("preview-text")).to_contain_text(
        "Hoi Anna, tot 1 May 2027: https://example.com/trial/sample"
    )
    frame = page.frame_locator("[data-testid=preview-html]")
    expect(frame.get_by_role("link", name="Bekijk je proef")).to_have_attribute(
        "href", "https://example.com/trial/sample"
    )
    db.session.rollback()  # read what the server committed
    assert set(mail_templates.versions(workspace.id, "trial_ending")) == {"nl"}

    page.get_by_role("button", name="Built-in text").click()
    expect(page.get_by_test_id("built-in")).to_be_visible()
    db.session.rollback()
    assert mail_templates.versions(workspace.id, "trial_ending") == {}
    assert_clean(page_errors)
