"""The API keys page: an owner creates a key, sees its secret once, and can revoke it."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import ApiKey
from tests.conftest import Browser
from tests.factories import Factory

SECRET_RE = re.compile(r'data-testid="new-api-key">([^<]+)</code>')


def create_key(browser: Browser, name: str = "Shop integration") -> tuple[Any, str]:
    response = browser.post("/admin/api-keys", {"name": name}, form_page="/admin/api-keys")
    assert response.status_code == 201
    found = SECRET_RE.findall(response.get_data(as_text=True))
    assert len(found) == 1, "the new secret is shown exactly once on the page"
    return response, found[0]


def list_campaigns(client: FlaskClient, secret: str) -> Any:
    return client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {secret}"})


# Only the secret's SHA-256 kept, which secrets authenticate, revoking one key of several and
# twice: tests/services/test_api_keys.py; a wrong or missing key: tests/web/test_api_campaigns.py.


def test_an_owner_creates_a_key_and_sees_the_secret_once(browser: Browser, login_as: Any) -> None:
    _, workspace = login_as("owner")
    response, secret = create_key(browser)
    assert secret.startswith("rk_")
    assert "Copy it now: it is shown only once." in response.get_data(as_text=True)
    key = db.session.scalar(select(ApiKey))
    assert key is not None
    assert (key.workspace_id, key.name) == (workspace.id, "Shop integration")
    assert secret.startswith(key.prefix)
    reloaded = browser.client.get("/admin/api-keys").get_data(as_text=True)
    assert secret not in reloaded
    assert not SECRET_RE.search(reloaded)
    assert f"{key.prefix}…" in reloaded  # the key is still listed, by its prefix


def test_the_key_reads_the_api_until_it_is_revoked(
    app: Any, browser: Browser, login_as: Any, factory: Factory
) -> None:
    _, workspace = login_as("owner")
    factory.campaign(workspace, name="Visible through the API")
    factory.campaign(factory.workspace(), name="Another brand's")
    _, secret = create_key(browser)
    api = app.test_client()
    response = list_campaigns(api, secret)
    assert response.status_code == 200
    assert [c["name"] for c in response.get_json()["items"]] == ["Visible through the API"]
    key = db.session.scalar(select(ApiKey))
    assert key is not None
    assert key.last_used_at is not None  # shown on the page as "Last used"
    revoked = browser.post(f"/admin/api-keys/{key.id}/revoke", form_page="/admin/api-keys")
    assert revoked.status_code == 302
    assert revoked.headers["Location"] == "/admin/api-keys"
    page = browser.client.get("/admin/api-keys").get_data(as_text=True)
    assert "Key “Shop integration” revoked." in page
    assert "Revoked" in page
    assert list_campaigns(api, secret).status_code == 401
    again = browser.post(f"/admin/api-keys/{key.id}/revoke", form_page="/admin/api-keys")
    assert again.status_code == 302  # revoked already: the first time is kept


def test_a_key_without_a_name_is_refused_and_nothing_is_stored(
    browser: Browser, login_as: Any
) -> None:
    login_as("owner")
    response = browser.post("/admin/api-keys", {"name": "  "}, form_page="/admin/api-keys")
    assert response.status_code == 422
    assert not SECRET_RE.search(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_revoking_without_csrf_token_leaves_the_key_working(
    app: Any, browser: Browser, login_as: Any
) -> None:
    login_as("owner")
    _, secret = create_key(browser)
    key = db.session.scalar(select(ApiKey))
    assert key is not None
    browser.client.post(f"/admin/api-keys/{key.id}/revoke")
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is None  # type: ignore[union-attr]
    assert list_campaigns(app.test_client(), secret).status_code == 200
