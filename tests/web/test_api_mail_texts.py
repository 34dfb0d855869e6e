"""The wording of the service's own e-mails through the JSON API: the workspace's versions
and a campaign's own, read, written (checked as the admin's form checks them), dropped and
audited; and a segment's customers as the admin's CSV file."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from referral.domain.campaigns import LOCALES
from referral.domain.mail_templates import MAILS
from referral.extensions import db
from referral.models import AuditEntry, OutboxMessage, Segment, Workspace
from referral.services import mail_templates
from tests.factories import Factory
from tests.web.conftest import Api, assert_problem

CONFIRM = "Hallo {{ customer.first_name }}! Bestätige hier: {{ confirm_url }}"


def _audited(prefix: str) -> list[tuple[str, str, str]]:
    db.session.commit()
    return [
        (entry.action, entry.subject, entry.actor)
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like(prefix)).order_by(AuditEntry.id)
        )
    ]


def _key(api: Api, workspace: Workspace) -> str:
    """The audit actor of the fixture's key."""
    db.session.commit()
    entry = db.session.scalars(
        select(AuditEntry.actor)
        .where(AuditEntry.workspace_id == workspace.id, AuditEntry.actor.like("api-key:%"))
        .limit(1)
    ).first()
    assert entry is not None
    return entry


def test_the_workspace_texts_list_every_mail_in_every_locale_built_in_first(api: Api) -> None:
    listed = api.ok("GET", "/mail-texts")["items"]
    assert [(t["kind"], t["locale"]) for t in listed] == [(m, lo) for m in MAILS for lo in LOCALES]
    assert {t["source"] for t in listed} == {"built_in"}
    first = listed[0]
    assert first["subject"].startswith("Please confirm") and "confirm_url" in first["placeholders"]
    assert api.ok("GET", "/mail-texts/confirmation/de") == listed[1]


def test_a_workspace_text_is_written_sent_reset_and_audited(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    body = {"subject": "Bitte bestätigen: {{ campaign.name }}", "text": CONFIRM}
    written = api.ok("PUT", "/mail-texts/confirmation/de", json=body)
    assert (written["source"], written["subject"], written["html"]) == (
        "workspace",
        body["subject"],
        "",
    )
    assert api.ok("GET", "/mail-texts/confirmation/de") == written
    assert mail_templates.versions(workspace.id, "confirmation")["de"].text == CONFIRM
    campaign = api.campaign(name="Bönor")
    api.join(campaign["id"], "greta@example.com", locale="de")
    sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert sent is not None and sent.subject == "Bitte bestätigen: Bönor"
    gone = api.call("DELETE", "/mail-texts/confirmation/de")
    assert gone.status_code == 204 and gone.get_data() == b""
    assert api.ok("GET", "/mail-texts/confirmation/de")["source"] == "built_in"
    assert api.call("DELETE", "/mail-texts/confirmation/de").status_code == 204  # none: no entry
    actor = _key(api, workspace)
    assert _audited("mail.%") == [
        ("mail.changed", "mail:confirmation", actor),
        ("mail.reset", "mail:confirmation", actor),
    ]


def test_a_bad_text_answers_422_naming_the_part_and_nothing_changes(
    api: Api, workspace: Workspace
) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"subject": "Hi {% if %}", "text": "Fine"}, {"subject"}),
        ({"subject": "Hi", "text": "Go to {{ nowhere }}"}, {"text"}),
        ({"subject": "Hi", "text": "Fine", "html": "<p>{{ customer.password }}</p>"}, {"html"}),
        ({"subject": " ", "text": " "}, {"subject", "text"}),
        ({"subject": "x" * 301, "text": "Fine"}, {"subject"}),
        ({"subject": "Hi"}, {"text"}),
        ({"subject": "Hi", "text": "Fine", "footer": "x"}, {"footer"}),
    ]
    for body, named in cases:
        refused = api.call("PUT", "/mail-texts/draw_winner/nl", json=body)
        assert set(assert_problem(refused, 422)["errors"]) == named, body
    assert_problem(api.call("PUT", "/mail-texts/draw_winner/nl", data="[]"), 400)
    assert mail_templates.versions(workspace.id, "draw_winner") == {}
    assert _audited("mail.%") == []


def test_an_unknown_mail_or_locale_is_404(api: Api, workspace: Workspace) -> None:
    body = {"subject": "Hi", "text": "Fine"}
    for path in ("/mail-texts/invoice/de", "/mail-texts/confirmation/xx"):
        assert_problem(api.get(path), 404)
        assert_problem(api.call("PUT", path, json=body), 404)
        assert_problem(api.call("DELETE", path), 404)
    assert mail_templates.versions(workspace.id, "confirmation") == {}


def test_a_campaign_text_goes_before_the_workspace_text_and_is_audited(
    api: Api, workspace: Workspace
) -> None:
    campaign = api.campaign()
    cid = campaign["id"]
    api.ok("PUT", "/mail-texts/trial_ending/en", json={"subject": "Ours", "text": "Shared"})
    mine = {"subject": "Just {{ campaign.name }}", "text": "Own", "html": "<p>Own</p>"}
    written = api.ok("PUT", f"/campaigns/{cid}/mail-texts/trial_ending/en", json=mine)
    assert (written["source"], written["html"]) == ("campaign", "<p>Own</p>")
    listed = api.ok("GET", f"/campaigns/{cid}/mail-texts")["items"]
    assert len(listed) == len(MAILS) * len(LOCALES)
    sources = {(t["kind"], t["locale"]): t["source"] for t in listed}
    assert sources[("trial_ending", "en")] == "campaign"
    assert sources[("confirmation", "en")] == "built_in"
    assert api.ok("GET", "/mail-texts/trial_ending/en")["subject"] == "Ours"  # the shared stays
    refused = api.call(
        "PUT", f"/campaigns/{cid}/mail-texts/trial_ending/en", json={"subject": "{{", "text": "x"}
    )
    assert set(assert_problem(refused, 422)["errors"]) == {"subject"}
    assert api.call("DELETE", f"/campaigns/{cid}/mail-texts/trial_ending/en").status_code == 204
    back = api.ok("GET", f"/campaigns/{cid}/mail-texts/trial_ending/en")
    assert (back["source"], back["subject"]) == ("workspace", "Ours")
    actor = _key(api, workspace)
    own = f"campaign:{cid}"
    assert _audited("mail.%") == [
        ("mail.changed", "mail:trial_ending", actor),
        ("mail.changed", own, actor),
        ("mail.reset", own, actor),
    ]


def test_another_workspaces_campaign_texts_are_404_and_stay(api: Api, other_api: Api) -> None:
    cid = api.campaign()["id"]
    api.ok(
        "PUT", f"/campaigns/{cid}/mail-texts/confirmation/en", json={"subject": "A", "text": "B"}
    )
    body = {"subject": "Taken", "text": "Over"}
    for method, path, sent in (
        ("GET", f"/campaigns/{cid}/mail-texts", None),
        ("GET", f"/campaigns/{cid}/mail-texts/confirmation/en", None),
        ("PUT", f"/campaigns/{cid}/mail-texts/confirmation/en", body),
        ("DELETE", f"/campaigns/{cid}/mail-texts/confirmation/en", None),
    ):
        assert_problem(other_api.call(method, path, json=sent), 404)
    assert api.ok("GET", f"/campaigns/{cid}/mail-texts/confirmation/en")["subject"] == "A"
    assert other_api.ok("GET", "/mail-texts/confirmation/en")["source"] == "built_in"


# --- a segment's CSV -----------------------------------------------------------------------


def test_a_segment_exports_its_customers_as_csv_neutralised_and_audited(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    campaign = factory.campaign(workspace, status="live")
    sly = factory.participation(campaign, channel="qr")
    sly.customer.name = "=HYPERLINK(1)"
    factory.participation(campaign, channel="email")
    factory.participation(factory.campaign(), channel="qr")  # another workspace's
    segment = Segment(workspace_id=workspace.id, name="QR", filters={"channel": "qr"})
    db.session.add(segment)
    db.session.commit()
    response = api.get(f"/segments/{segment.id}/export")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="segment-{segment.id}.csv"' in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "customer_id", "email", "name", "locale", "tags", "campaigns", "created_at",
    ]  # fmt: skip
    assert [(r[0], r[2]) for r in rows[1:]] == [(str(sly.customer_id), "'=HYPERLINK(1)")]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.customers")
    ).all()
    assert [(e.subject, e.actor, e.data["filters"]) for e in entries] == [
        (f"segment:{segment.id}", _key(api, workspace), {"channel": "qr"})
    ]


def test_another_workspaces_segment_export_is_404_and_unaudited(
    api: Api, other_api: Api, workspace: Workspace
) -> None:
    segment = Segment(workspace_id=workspace.id, name="Mine", filters={})
    db.session.add(segment)
    db.session.commit()
    assert_problem(other_api.get(f"/segments/{segment.id}/export"), 404)
    assert_problem(api.get("/segments/x/export"), 404)
    assert _audited("export.%") == []
