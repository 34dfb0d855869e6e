"""Saved segments and a customer's tags through the JSON API: the segments of the key's
workspace, the customers a segment holds now, a page at a time, and a tag put on or taken
off by its name."""

from __future__ import annotations

from sqlalchemy import select

from referral.extensions import db
from referral.models import AuditEntry, Segment, Workspace
from referral.models.journey import CustomerTag
from tests.factories import Factory
from tests.web.conftest import Api, assert_problem


def segment(workspace: Workspace, name: str, **filters: str) -> Segment:
    row = Segment(workspace_id=workspace.id, name=name, filters=filters)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_segment_lists_the_customers_its_filter_holds_now(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    campaign = factory.campaign(workspace, status="live")
    people = [factory.participation(campaign, channel="qr") for _ in range(3)]
    factory.participation(campaign, channel="email")
    factory.participation(factory.campaign(), channel="qr")  # another workspace's
    qr = segment(workspace, "QR", channel="qr")
    listed = api.ok("GET", "/segments")
    assert [(s["id"], s["name"], s["filters"]) for s in listed["items"]] == [
        (str(qr.id), "QR", {"channel": "qr"})
    ]
    assert api.ok("GET", f"/segments/{qr.id}")["name"] == "QR"
    first = api.ok("GET", f"/segments/{qr.id}/customers?limit=2")
    rest = api.ok("GET", f"/segments/{qr.id}/customers?limit=2&cursor={first['next_cursor']}")
    ids = [c["id"] for c in first["items"] + rest["items"]]
    assert ids == [str(p.customer_id) for p in people] and rest["next_cursor"] is None
    assert first["items"][0]["campaigns"] == 1 and first["items"][0]["tags"] == []


def test_another_workspaces_segment_is_404(api: Api, other_api: Api, workspace: Workspace) -> None:
    theirs = segment(workspace, "Mine")
    assert_problem(other_api.get(f"/segments/{theirs.id}"), 404)
    assert_problem(other_api.get(f"/segments/{theirs.id}/customers"), 404)
    assert other_api.ok("GET", "/segments")["items"] == []


def test_a_tag_is_put_and_taken_off_by_name_lower_cased_and_audited(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    campaign = factory.campaign(workspace, status="live")
    person = factory.participation(campaign).customer_id
    put = api.ok("PUT", f"/customers/{person}/tags/Early%20Bird")
    assert (put["tags"], put["added"]) == (["early bird"], ["early bird"])
    again = api.ok("PUT", f"/customers/{person}/tags/EARLY%20BIRD")
    assert again["added"] == []
    assert_problem(api.call("PUT", f"/customers/{person}/tags/%3Dcmd"), 422)
    gone = api.ok("DELETE", f"/customers/{person}/tags/early%20bird")
    assert (gone["tags"], gone["removed"]) == ([], ["early bird"])
    db.session.commit()
    assert db.session.scalars(select(CustomerTag)).all() == []
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.subject, AuditEntry.data)
        .where(AuditEntry.action.like("customer.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("customer.tagged", f"customer:{person}", {"tag": "early bird"}),
        ("customer.untagged", f"customer:{person}", {"tag": "early bird"}),
    ]


def test_the_tags_of_a_segment_customer_and_the_export_agree(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    campaign = factory.campaign(workspace, status="live")
    person = factory.participation(campaign, status="confirmed")
    api.ok("POST", f"/customers/{person.customer_id}/tags", json={"add": ["VIP", "buyer"]})
    vip = segment(workspace, "VIP", tag="vip")
    listed = api.ok("GET", f"/segments/{vip.id}/customers")["items"]
    assert [(c["id"], c["tags"]) for c in listed] == [(str(person.customer_id), ["buyer", "vip"])]
    exported = api.ok("GET", f"/customers/{person.customer_id}/export")
    assert exported["customer"]["tags"] == ["buyer", "vip"]


def test_a_segment_is_created_changed_and_deleted_audited(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    campaign = factory.campaign(workspace, status="live")
    body = {"name": " QR fans ", "filters": {"channel": "qr", "tag": "VIP"}}
    response = api.call("POST", "/segments", json=body)
    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/segments/{made['id']}")
    assert (made["name"], made["filters"]) == ("QR fans", {"tag": "vip", "channel": "qr"})
    taken = api.call("POST", "/segments", json={"name": "QR fans"})
    assert set(assert_problem(taken, 422)["errors"]) == {"name"}
    changed = api.ok(
        "PATCH", f"/segments/{made['id']}", json={"filters": {"campaign": str(campaign.id)}}
    )
    assert (changed["name"], changed["filters"]) == ("QR fans", {"campaign": str(campaign.id)})
    renamed = api.ok("PATCH", f"/segments/{made['id']}", json={"name": "Spring"})
    assert (renamed["name"], renamed["filters"]) == ("Spring", {"campaign": str(campaign.id)})
    gone = api.call("DELETE", f"/segments/{made['id']}")
    assert gone.status_code == 204 and gone.get_data() == b""
    assert_problem(api.get(f"/segments/{made['id']}"), 404)
    db.session.commit()
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("segment.%")).order_by(AuditEntry.id)
    ).all()
    assert actions == ["segment.created", "segment.changed", "segment.changed", "segment.deleted"]


def test_a_filter_the_rules_refuse_is_named_under_filters_and_nothing_changes(
    api: Api, factory: Factory, workspace: Workspace
) -> None:
    theirs = factory.campaign(factory.workspace())
    refused = api.call(
        "POST",
        "/segments",
        json={"name": "Bad", "filters": {"active_after": "2026-02-30", "points_min": "x"}},
    )
    assert set(assert_problem(refused, 422)["errors"]) == {
        "filters.active_after",
        "filters.points_min",
    }
    elsewhere = api.call(
        "POST", "/segments", json={"name": "Bad", "filters": {"campaign": str(theirs.id)}}
    )
    assert set(assert_problem(elsewhere, 422)["errors"]) == {"filters.campaign"}
    unknown = api.call("POST", "/segments", json={"name": "Bad", "filters": {"colour": "red"}})
    assert_problem(unknown, 422)
    mine = segment(workspace, "Mine", status="pending")
    patch = api.call(
        "PATCH", f"/segments/{mine.id}", json={"name": "New", "filters": {"tag": "=x"}}
    )
    assert set(assert_problem(patch, 422)["errors"]) == {"filters.tag"}
    db.session.expire_all()
    assert [(s.name, s.filters) for s in db.session.scalars(select(Segment))] == [
        ("Mine", {"status": "pending"})
    ]
