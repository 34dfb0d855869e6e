"""Operator commands: create-admin, create-api-key, demo."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.extensions import db
from referral.models import (
    ApiKey,
    Campaign,
    Marketer,
    Membership,
    OutboxMessage,
    Participation,
    Workspace,
)
from referral.models.webhooks import WebhookDelivery, WebhookEndpoint
from referral.services import trials
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.conftest import Browser
from tests.factories import Factory


def invoke(runner: Any, *args: str) -> Any:
    return runner.invoke(args=list(args))


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def login_works(app: Flask, email: str, password: str) -> bool:
    browser = Browser(app.test_client())
    response = browser.login(email, password)
    return response.status_code == 302 and browser.client.get("/admin/campaigns").status_code == 200


# create-admin


def test_create_admin_makes_the_workspace_and_an_owner_who_can_sign_in(
    app: Flask, runner: Any
) -> None:
    result = invoke(
        runner,
        "create-admin",
        "--workspace",
        "acme",
        "--email",
        "Boss@Acme.example",
        "--password",
        "a long enough password",
    )
    assert result.exit_code == 0, result.output
    assert "Created owner boss@acme.example in workspace acme." in result.output
    assert "Password:" not in result.output
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "acme"))
    assert workspace is not None
    membership = db.session.scalar(
        select(Membership).where(Membership.workspace_id == workspace.id)
    )
    assert membership is not None and membership.role == "owner"
    assert login_works(app, "boss@acme.example", "a long enough password")


def test_create_admin_without_a_password_prints_a_generated_one_that_works(
    app: Flask, runner: Any
) -> None:
    result = invoke(runner, "create-admin", "--workspace", "acme", "--email", "owner@acme.example")
    assert result.exit_code == 0, result.output
    match = re.search(r"^Password: (\S+)$", result.output, re.MULTILINE)
    assert match, result.output
    password = match.group(1)
    assert len(password) >= 10
    marketer = db.session.scalar(select(Marketer))
    assert marketer is not None and password not in marketer.password_hash
    assert login_works(app, "owner@acme.example", password)


def test_create_admin_adds_an_existing_marketer_to_a_second_workspace_with_a_role(
    app: Flask, runner: Any
) -> None:
    invoke(
        runner,
        "create-admin",
        "--workspace",
        "acme",
        "--email",
        "ann@example.com",
        "--password",
        "first password!",
    )
    result = invoke(
        runner,
        "create-admin",
        "--workspace",
        "globex",
        "--email",
        "ann@example.com",
        "--role",
        "viewer",
    )
    assert result.exit_code == 0, result.output
    assert "Updated viewer ann@example.com in workspace globex." in result.output
    assert "Password:" not in result.output  # the existing password is kept
    assert count(Marketer) == 1
    roles = db.session.execute(
        select(Workspace.slug, Membership.role).join(Membership).order_by(Workspace.slug)
    ).all()
    assert [tuple(r) for r in roles] == [("acme", "owner"), ("globex", "viewer")]
    assert login_works(app, "ann@example.com", "first password!")


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.com", "no-tld@example", ""])
def test_create_admin_refuses_a_bad_email_with_a_clear_message(runner: Any, email: str) -> None:
    result = invoke(
        runner,
        "create-admin",
        "--workspace",
        "acme",
        "--email",
        email,
        "--password",
        "a long enough password",
    )
    assert result.exit_code != 0
    assert result.output.startswith("Error: ")
    assert result.output.count("e-mail address") == 1
    assert "Traceback" not in result.output
    assert count(Marketer) == 0
    assert count(Workspace) == 0


def test_create_admin_refuses_a_short_password(runner: Any) -> None:
    result = invoke(
        runner,
        "create-admin",
        "--workspace",
        "acme",
        "--email",
        "a@acme.example",
        "--password",
        "short",
    )
    assert result.exit_code != 0
    assert result.output.count("Use at least 10 characters for the password.") == 1
    assert count(Marketer) == 0
    assert count(Workspace) == 0


def test_create_admin_refuses_a_malformed_workspace_slug(runner: Any) -> None:
    result = invoke(
        runner,
        "create-admin",
        "--workspace",
        "no spaces!",
        "--email",
        "a@acme.example",
        "--password",
        "a long enough password",
    )
    assert result.exit_code != 0
    assert "lower-case letters, digits and dashes" in result.output
    assert count(Workspace) == 0


def test_create_admin_refuses_an_unknown_role(runner: Any) -> None:
    result = invoke(
        runner, "create-admin", "--workspace", "acme", "--email", "a@acme.example", "--role", "god"
    )
    assert result.exit_code != 0
    assert count(Marketer) == 0


# create-api-key


def test_create_api_key_prints_a_working_key_as_the_last_line(app: Flask, runner: Any) -> None:
    invoke(runner, "create-admin", "--workspace", "acme", "--email", "a@acme.example")
    result = invoke(runner, "create-api-key", "--workspace", "acme", "--name", "Shop")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert result.stdout.strip() == secret  # only the key on stdout: easy to pipe
    assert secret.startswith("rk_")
    key = db.session.scalar(select(ApiKey))
    assert key is not None and key.name == "Shop"
    response = app.test_client().get(
        "/api/v1/campaigns", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200


def test_create_api_key_for_an_unknown_workspace_fails(runner: Any) -> None:
    result = invoke(runner, "create-api-key", "--workspace", "nowhere")
    assert result.exit_code != 0
    assert "No workspace 'nowhere'." in result.output
    assert count(ApiKey) == 0


def test_create_api_key_finds_the_workspace_however_its_slug_is_typed(runner: Any) -> None:
    """create-admin lower-cases the slug it is given; create-api-key must find it the same way."""
    invoke(runner, "create-admin", "--workspace", "Acme", "--email", "a@acme.example")
    result = invoke(runner, "create-api-key", "--workspace", "Acme")
    assert result.exit_code == 0, result.output
    assert count(ApiKey) == 1


# demo


def test_demo_seeds_once_and_its_login_works(app: Flask, runner: Any) -> None:
    first = invoke(runner, "demo", "--participants", "200")
    assert first.exit_code == 0, first.output
    assert "Marketer login: demo@example.com / demo-password" in first.output
    assert "cascade of 200 participants" in first.output
    receiver = re.search(
        r"Stripe receiver: (\S+/hooks/stripe/\S+)  "
        r"\(signing secret whsec_demo_local_testing_only\)",
        first.output,
    )
    assert receiver is not None, first.output
    campaigns, participants = count(Campaign), count(Participation)
    assert campaigns >= 4
    cascade = select(Campaign.id).where(Campaign.slug == "demo-coffee-friends").scalar_subquery()
    in_cascade = select(func.count()).where(Participation.campaign_id == cascade)
    # The cascade and the 7 people of the demo's imported customer list (referral/demo/
    # customers.csv); other campaigns have participants of their own.
    assert db.session.scalar(in_cascade) == 200 + 7
    referred = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .where(Participation.referrer_id.is_not(None))
    )
    assert referred and referred > 100  # a cascade, not a list
    second = invoke(runner, "demo", "--participants", "200")
    assert second.exit_code == 0, second.output
    assert "already seeded" in second.output
    assert "Marketer login: demo@example.com / demo-password" in second.output
    assert receiver.group(0) in second.output  # the same receiver
    assert (count(Campaign), count(Participation)) == (campaigns, participants)
    assert login_works(app, "demo@example.com", "demo-password")
    hooks = db.session.scalars(select(WebhookEndpoint)).all()
    assert [(h.url, h.active) for h in hooks] == [
        ("https://shop.example.com/hooks/referral", False)
    ]
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_demo_resets_a_changed_demo_password(app: Flask, runner: Any) -> None:
    invoke(runner, "demo", "--participants", "20")
    invoke(
        runner,
        "create-admin",
        "--workspace",
        "demo",
        "--email",
        "demo@example.com",
        "--password",
        "somebody changed it",
    )
    assert not login_works(app, "demo@example.com", "demo-password")
    invoke(runner, "demo", "--participants", "20")
    assert login_works(app, "demo@example.com", "demo-password")


def test_the_reminder_command_sends_each_reminder_once(factory: Factory, runner: Any) -> None:
    campaign = factory.campaign(kind="trial", status="live")
    trials.update_trial_settings(campaign, 1, 0)  # no reminder: nothing due, ever
    join_campaign(campaign, JoinRequest(email="none@example.com", confirmed=True), Visitor())
    trials.update_trial_settings(campaign, 2, 1)
    person = join_campaign(
        campaign, JoinRequest(email="due@example.com", confirmed=True), Visitor()
    ).participation
    trial = trials.trial_of(person)
    trial.reminder_at = trial.started_at - timedelta(seconds=1)  # due already
    db.session.commit()
    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0, first.output
    assert "1 trial reminder(s) queued" in first.output
    second = runner.invoke(args=["send-reminders"])
    assert "0 trial reminder(s) queued" in second.output
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "trial_ending")
        )
        == 1
    )
