"""End-to-end fixtures: the app on a real socket and a headless Debian Chromium.

* ``live_server`` serves the per-test ``app`` (fresh database) with werkzeug on
  127.0.0.1, a free port, in a daemon thread; it is shut down after the test.
* ``chromium`` is one browser per session, launched from the Debian package (never
  ``playwright install``). Missing Chromium skips the tests, or fails them when CI=true.
* ``page`` is a fresh browser context per test: a 390x844 phone by default, a 1280x800
  desktop with ``desktop_page`` or ``@pytest.mark.parametrize("page", ["desktop"],
  indirect=True)``. Console errors, uncaught exceptions and CSP violations of every
  page are collected in ``page_errors``; call ``assert_clean(page_errors)``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from referral.extensions import db
from referral.models import Marketer, OutboxMessage
from tests.factories import Factory

SignIn = Callable[..., None]

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}

# Chromium reports CSP violations on the console too; this makes them impossible to miss
# (and catches the ones a report-only policy would only log as warnings).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@dataclass
class LiveServer:
    url: str
    app: Flask

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test's app on a real socket. Each request runs in the server thread with its
    own application context and database session, as in production; the app context the
    ``app`` fixture holds open belongs to the test thread only."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        reason = "Debian chromium not installed: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Console errors, uncaught exceptions and CSP violations seen by ``page``."""
    return []


def _open_page(chromium: Any, errors: list[str], viewport: str) -> tuple[Any, Any]:
    context = chromium.new_context(
        viewport=VIEWPORTS[viewport],
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
        device_scale_factor=2 if viewport == "phone" else 1,
        locale="en-US",
    )
    context.set_default_timeout(10_000)
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: uncaught {error}"))
    return context, page


@pytest.fixture
def page(request: pytest.FixtureRequest, chromium: Any, page_errors: list[str]) -> Iterator[Any]:
    viewport = getattr(request, "param", "phone")
    context, opened = _open_page(chromium, page_errors, viewport)
    yield opened
    context.close()


@pytest.fixture
def desktop_page(chromium: Any, page_errors: list[str]) -> Iterator[Any]:
    context, opened = _open_page(chromium, page_errors, "desktop")
    yield opened
    context.close()


def page_width(page: Any) -> int:
    """How wide the page lays out, measured once its stylesheets apply: the load event waits
    for them, and a width read before it is the unstyled page's."""
    page.wait_for_load_state("load")
    return int(page.evaluate("document.documentElement.scrollWidth"))


def assert_clean(errors: list[str]) -> None:
    assert not errors, "browser reported errors:\n" + "\n".join(errors)


@pytest.fixture
def sign_in(live_server: LiveServer) -> SignIn:
    """Sign in through the real login form."""

    def _sign_in(page: Any, email: str, password: str = Factory.PASSWORD) -> None:
        page.goto(live_server("/login"))
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live_server("/admin/campaigns"))

    return _sign_in


@pytest.fixture
def owner(factory: Factory, page: Any, sign_in: SignIn) -> Marketer:
    """The owner of a fresh workspace, signed in on ``page`` (at the campaigns list)."""
    marketer, _workspace = factory.marketer()
    sign_in(page, marketer.email)
    return marketer


CONFIRM_LINK = re.compile(r"https?://\S+?(/confirm/[A-Za-z0-9_\-]+)")


def confirmation_path(to: str) -> str:
    """The /confirm/ link of the confirmation e-mail queued for ``to``."""
    db.session.rollback()  # see the server thread's commits
    message = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.to_address == to, OutboxMessage.kind == "confirmation"
        )
    ).one()
    match = CONFIRM_LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1)
