"""The demo's customer list: imported once into the referral campaign with its report, and
uploaded once more, waiting at its mapping."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from referral.demo.seed import seed_demo
from referral.extensions import db
from referral.models import ConsentRecord, ParticipantImport


def test_the_demo_imports_its_customer_list_once_and_leaves_a_second_upload_to_map(
    app: Flask,
) -> None:
    seed_demo(participants=60)
    seed_demo(participants=60)
    db.session.commit()
    jobs = db.session.scalars(select(ParticipantImport).order_by(ParticipantImport.id)).all()
    assert [job.status for job in jobs] == ["done", "uploaded"]
    assert jobs[0].counts == {"created": 7, "existing": 0, "error": 3}
    assert {line[2] for line in jobs[0].report} == {"created", "error"}
    assert jobs[1].data is not None and jobs[1].mapping["email"] == 0
    imported = db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.purpose == "imported")
    ).all()
    assert len(imported) == 7
