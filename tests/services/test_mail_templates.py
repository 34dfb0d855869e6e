"""The service's own mails (confirmation, trial reminder, winner's notice) as a workspace
words them: checked in the sandbox with the names each may quote, sent in the recipient's
locale (or its language), else the built-in text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from referral import emails
from referral.domain.errors import NotFound, ValidationFailed
from referral.extensions import db
from referral.models import OutboxMessage, Workspace
from referral.services import journey_admin, mail_templates, privacy_requests
from referral.services.joining import JoinRequest, Visitor, join_campaign
from tests.factories import Factory

TEXT = "Hej {{ customer.first_name }}! Bekräfta: {{ confirm_url }} ({{ campaign.name }})"


def _join(factory: Factory, workspace: Workspace, locale: str | None) -> OutboxMessage:
    campaign = factory.campaign(workspace, status="live", name="Bönor")
    request = JoinRequest(email=f"p{locale}@example.com", name="Greta Berg", locale=locale)
    joined = join_campaign(campaign, request, Visitor(), emails.confirmation)
    found = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.customer_id == joined.participation.customer_id)
    )
    assert found is not None
    return found


def test_a_saved_version_is_sent_in_its_locale_with_a_working_link(
    app: Flask, factory: Factory
) -> None:
    workspace = factory.workspace()
    mail_templates.save_mail_template(
        workspace.id, "confirmation", "de", "Bitte bestätigen: {{ campaign.name }}", TEXT
    )
    sent = _join(factory, workspace, "de_AT")
    assert sent.subject == "Bitte bestätigen: Bönor"
    base = app.config["PUBLIC_BASE_URL"]
    assert sent.body_text.startswith(f"Hej Greta! Bekräfta: {base}/confirm/")
    assert sent.body_html == ""


def test_a_locale_the_workspace_did_not_write_gets_the_built_in_mail(factory: Factory) -> None:
    workspace = factory.workspace()
    mail_templates.save_mail_template(workspace.id, "confirmation", "de", "Bitte", TEXT)
    sent = _join(factory, workspace, "en")
    assert sent.subject == "Please confirm your e-mail address for Bönor"
    other = factory.workspace()
    assert _join(factory, other, "de").subject != "Bitte"


def test_a_version_is_checked_with_the_names_of_its_mail(factory: Factory) -> None:
    workspace = factory.workspace()
    with pytest.raises(ValidationFailed) as refused:
        mail_templates.save_mail_template(
            workspace.id, "confirmation", "en", "Hi", "{{ points }} {{ confirm_url }}"
        )
    assert set(refused.value.errors) == {"text"}
    with pytest.raises(ValidationFailed) as bad_locale:
        mail_templates.save_mail_template(workspace.id, "confirmation", "xx", "Hi", "Text")
    assert set(bad_locale.value.errors) == {"locale"}
    with pytest.raises(NotFound):
        mail_templates.save_mail_template(workspace.id, "invoice", "en", "Hi", "Text")
    assert mail_templates.versions(workspace.id, "confirmation") == {}


def test_the_starting_text_and_preview_and_going_back_to_the_built_in_text(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    start = mail_templates.starting_text(workspace.id, "confirmation", "nl")
    preview = mail_templates.preview_mail(workspace.id, "confirmation", "nl")
    assert "https://example.com/confirm/sample" in preview.text and preview.html
    mail_templates.save_mail_template(workspace.id, "confirmation", "en", "Mine", start.text)
    assert mail_templates.starting_text(workspace.id, "confirmation", "nl").subject == "Mine"
    assert journey_admin.message_catalogue(workspace.id) == {}
    mail_templates.remove_mail_template(workspace.id, "confirmation", "en")
    assert mail_templates.versions(workspace.id, "confirmation") == {}


def test_the_trial_reminder_is_sent_in_the_workspace_wording_with_its_end_date(
    app: Flask, factory: Factory
) -> None:
    from referral.services import trials
    from referral.services.confirmation import confirm_participation

    workspace = factory.workspace()
    campaign = factory.campaign(workspace, kind="trial", status="live", name="Koffie")
    trials.update_trial_settings(campaign, 14, 3)
    mail_templates.save_mail_template(
        workspace.id,
        "trial_ending",
        "nl",
        "Nog even: {{ campaign.name }}",
        "Je proef loopt af op {{ ends_on }}: {{ trial_url }}",
    )
    dutch = join_campaign(campaign, JoinRequest(email="nl@example.com", locale="nl")).participation
    english = join_campaign(campaign, JoinRequest(email="en@example.com", locale="en"))
    for joined in (dutch, english.participation):
        confirm_participation(joined)
    trial = trials.trial_of(dutch)
    assert trial is not None
    due = trial.reminder_at + timedelta(minutes=1)  # the second trial started a moment later
    assert trials.send_reminders(emails.trial_ending, now=due) == 2
    sent = {
        m.to_address: m
        for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "trial_ending")
        )
    }
    base = app.config["PUBLIC_BASE_URL"]
    reworded = sent["nl@example.com"]
    assert reworded.subject == "Nog even: Koffie"
    assert reworded.body_text.startswith("Je proef loopt af op ")
    assert f"{base}/trial/" in reworded.body_text and str(trial.ends_at.year) in reworded.body_text
    assert sent["en@example.com"].subject == "Your free trial of Koffie ends soon"


def test_the_winner_notice_is_sent_in_the_workspace_wording_with_the_draw_record(
    factory: Factory,
) -> None:
    from referral.services import draws
    from tests.services.test_draw_rules import closed_lottery

    workspace = factory.workspace()
    mail_templates.save_mail_template(
        workspace.id,
        "draw_winner",
        "en",
        "Gewonnen bij {{ campaign.name }}",
        "Claim within {{ claim_days }} days. Check: {{ verify_url }}",
    )
    draw = draws.run_draw(closed_lottery(workspace, people=3), 1, compose=emails.draw_winner)
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw_winner"))
    assert mail.subject == "Gewonnen bij Bike draw"
    assert mail.body_text.startswith("Claim within ")
    assert f"/draws/{draw.id}/verify\n\n--\nDownload or erase your data\n" in mail.body_text


@pytest.mark.parametrize("mail", ["trial_ending", "draw_winner"])
def test_every_rewordable_mail_starts_from_a_text_that_passes_its_own_checks(
    factory: Factory, mail: str
) -> None:
    workspace = factory.workspace()
    start = mail_templates.starting_text(workspace.id, mail, "de")
    saved = mail_templates.save_mail_template(
        workspace.id, mail, "de", start.subject, start.text, start.html
    )
    preview = mail_templates.preview_mail(workspace.id, mail, "de")
    assert saved.locale == "de" and preview.subject and preview.html
    assert "example.com" in preview.text


def test_a_reworded_mail_ends_with_the_link_to_the_privacy_page(
    app: Flask, factory: Factory
) -> None:
    workspace = factory.workspace()
    mail_templates.save_mail_template(
        workspace.id,
        "confirmation",
        "de",
        "Bitte bestätigen",
        TEXT,
        "<html><body><p>Bitte: {{ confirm_url }}</p></body></html>",
    )
    sent = _join(factory, workspace, "de")
    assert sent.customer_id is not None
    page = privacy_requests.page_url(workspace.id, sent.customer_id)
    assert sent.body_text.endswith(f"\n\n--\nIhre Daten herunterladen oder löschen\n{page}\n")
    assert sent.body_html.endswith(
        f'<p><small><a href="{page}">Ihre Daten herunterladen oder löschen</a></small></p>\n'
        "</body></html>"
    )


def test_a_reworded_mail_that_quotes_the_privacy_page_gets_no_second_link(
    factory: Factory,
) -> None:
    workspace = factory.workspace()
    text = "{{ confirm_url }} | Ihre Daten: {{ privacy_url }}"
    mail_templates.save_mail_template(workspace.id, "confirmation", "de", "Bitte", text)
    sent = _join(factory, workspace, "de")
    assert sent.customer_id is not None
    page = privacy_requests.page_url(workspace.id, sent.customer_id)
    assert sent.body_text.endswith(f" | Ihre Daten: {page}")
    assert sent.body_text.count("/privacy/") == 1
