"""An owner's account in a real browser: change the password, disable a colleague."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.models import Marketer
from tests.e2e.conftest import LiveServer, SignIn, assert_clean
from tests.factories import Factory

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "orbit lantern meadow quartz"


def test_an_owner_changes_the_password_and_stays_signed_in(
    live_server: LiveServer, page: Any, page_errors: list[str], sign_in: SignIn, owner: Marketer
) -> None:
    # The signed-in address in the header leads to the account's password page.
    nav = page.get_by_role("navigation", name="Admin")
    nav.get_by_role("link", name=owner.email).click()
    page.wait_for_url(live_server("/account/password"))
    expect(page.locator("h1")).to_have_text("Change password")

    # A common password is refused, with the reason.
    page.get_by_label("Current password").fill(Factory.PASSWORD)
    page.get_by_label("New password", exact=True).fill("password123")
    page.get_by_label("Repeat the new password").fill("password123")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".field.has-error .error")).to_contain_text("too common")

    page.get_by_label("Current password").fill(Factory.PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(live_server("/account/password"))
    expect(page.locator(".flash-success")).to_have_text(
        "Your password is changed. Every other session is signed out."
    )

    # Still signed in here; the new password is the one that works from now on.
    page.get_by_role("link", name="Back to the admin").click()
    page.wait_for_url(live_server("/admin/campaigns"))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server("/login"))
    sign_in(page, owner.email, NEW_PASSWORD)
    expect(page.locator("h1")).to_have_text("Campaigns")
    # The refused common password was answered 422 on purpose; Chromium logs that as an error.
    expected = live_server("/account/password: Failed to load resource: the server responded")
    assert_clean([e for e in page_errors if not (e.startswith(expected) and "422" in e)])


def test_an_owner_disables_a_member_who_is_signed_out_at_once(
    live_server: LiveServer,
    page: Any,
    desktop_page: Any,
    page_errors: list[str],
    factory: Factory,
    sign_in: SignIn,
) -> None:
    owner, workspace = factory.marketer()
    editor, _ = factory.marketer(role="editor", workspace=workspace)
    sign_in(page, editor.email)
    sign_in(desktop_page, owner.email)

    desktop_page.get_by_role("navigation", name="Admin").get_by_role("link", name="Members").click()
    desktop_page.wait_for_url(live_server("/admin/members"))
    row = desktop_page.locator("table tbody tr", has_text=editor.email)
    expect(row).to_contain_text("Editor")
    expect(row).to_contain_text("Enabled")
    mine = desktop_page.locator("table tbody tr", has_text=owner.email)
    expect(mine.get_by_role("button", name="Disable")).to_have_count(0)
    row.get_by_role("button", name="Disable").click()
    desktop_page.wait_for_url(live_server("/admin/members"))
    expect(desktop_page.locator(".flash-success")).to_have_text(
        f"{editor.email} is disabled here and signed out."
    )
    expect(row).to_contain_text("Disabled")

    # The editor's open browser is signed out at the next click.
    page.reload()
    page.wait_for_url(live_server("/login?next=%2Fadmin%2Fcampaigns"))
    expect(page.locator("h1")).to_have_text("Sign in")

    # The log shows what happened.
    desktop_page.get_by_role("link", name="Audit log").click()
    desktop_page.wait_for_url(live_server("/admin/audit"))
    disabled = desktop_page.locator("table tbody tr", has_text="member.disable")
    expect(disabled).to_contain_text(editor.email)
    expect(disabled).to_contain_text(owner.email)

    # Let back in.
    desktop_page.get_by_role("link", name="Members").click()
    row.get_by_role("button", name="Enable").click()
    expect(row).to_contain_text("Enabled")
    sign_in(page, editor.email)
    expect(page.locator("h1")).to_have_text("Campaigns")
    assert_clean(page_errors)
