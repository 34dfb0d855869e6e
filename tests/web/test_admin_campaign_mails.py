"""A campaign's own e-mail texts per language in the admin: linked from the campaign page,
written and previewed by an editor, read by a viewer, another workspace's campaign 404."""

from __future__ import annotations

import html
from typing import Any

from referral.extensions import db
from referral.services import mail_templates
from tests.conftest import Browser
from tests.factories import Factory

FORM = {
    "subject": "Bitte bestätigen: {{ campaign.name }}",
    "text": "Hallo {{ customer.first_name }}, bitte hier: {{ confirm_url }}",
    "html": '<p><a href="{{ confirm_url }}">Bestätigen</a></p>',
}
WORDS = {"translations": {"de": {"name": "Sommerbohnen"}}}


def test_an_editor_writes_a_campaigns_german_mail_from_the_campaign_page(
    login_as: Any, browser: Browser, factory: Factory
) -> None:
    _, workspace = login_as("editor")
    campaign = factory.campaign(workspace, locales=["en", "de"], settings=WORDS)
    page_path = f"/admin/campaigns/{campaign.id}/mails/confirmation/de"
    overview = html.unescape(
        browser.client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    )
    assert f'href="{page_path}"' in overview and "Sommerbohnen" in overview
    assert "default-1-de" in overview  # the consent version a German visitor records
    first = browser.client.get(page_path).get_data(as_text=True)
    assert 'data-testid="campaign-default"' in first
    response = browser.post(page_path, FORM, form_page=page_path)
    assert response.status_code == 302 and response.headers["Location"] == page_path
    page = html.unescape(browser.client.get(page_path).get_data(as_text=True))
    assert "Bitte bestätigen: Sommerbohnen" in page  # the sample names the campaign in German
    frame = browser.client.get(f"{page_path}/preview.html")
    assert frame.status_code == 200 and "sandbox" in frame.headers["Content-Security-Policy"]
    assert set(mail_templates.versions(workspace.id, "confirmation", campaign.id)) == {"de"}
    assert mail_templates.versions(workspace.id, "confirmation") == {}  # the workspace's stay
    overview = html.unescape(
        browser.client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    )
    assert "This campaign's text" in overview
    assert browser.post(f"{page_path}/reset", form_page=page_path).status_code == 302
    db.session.expire_all()
    assert mail_templates.versions(workspace.id, "confirmation", campaign.id) == {}


def test_a_bad_version_is_refused_with_422_and_a_viewer_cannot_write(
    login_as: Any, browser: Browser, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    campaign = factory.campaign(workspace, locales=["en", "de"])
    page_path = f"/admin/campaigns/{campaign.id}/mails/confirmation/de"
    refused = browser.post(page_path, {**FORM, "text": "{{ points }}"}, form_page=page_path)
    assert refused.status_code == 422
    viewer, _ = factory.marketer("viewer", workspace)
    browser.client.post("/logout", data={"csrf_token": browser.token("/admin/campaigns")})
    browser.login(viewer.email)
    page = browser.client.get(page_path).get_data(as_text=True)
    assert 'data-testid="preview"' in page and 'data-testid="mail-form"' not in page
    assert browser.post(page_path, FORM, form_page=page_path).status_code == 403
    assert mail_templates.versions(workspace.id, "confirmation", campaign.id) == {}


def test_another_workspaces_campaign_or_an_unknown_locale_is_404(
    login_as: Any, browser: Browser, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    theirs = factory.campaign(factory.workspace())
    ours = factory.campaign(workspace)
    for path in (
        f"/admin/campaigns/{theirs.id}/mails/confirmation/de",
        f"/admin/campaigns/{ours.id}/mails/confirmation/xx",
        f"/admin/campaigns/{ours.id}/mails/invoice/en",
    ):
        assert browser.client.get(path).status_code == 404, path
