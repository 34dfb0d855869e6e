"""The demo's imports: the shop's customer list (``customers.csv``, semicolon separated with
German column names, three rows with a mistake) imported into the referral campaign, and
the same file uploaded once more and left at its mapping, so the import page shows both a
finished import with its report and the step before it (importing it adds nobody: they are
in already). Idempotent: a workspace with an import is left alone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from referral.extensions import db
from referral.models import Campaign, ParticipantImport
from referral.services import import_jobs

SAMPLE = Path(__file__).with_name("customers.csv")
SLUG = "demo-coffee-friends"
BASIS = "Customers of our online shop who bought coffee from us (existing contract)"


def seed_demo_imports(workspace_id: int) -> None:
    if db.session.scalar(
        select(ParticipantImport.id).where(ParticipantImport.workspace_id == workspace_id)
    ):
        return
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.slug == SLUG)
    )
    if campaign is None or campaign.status != "live":
        return
    data = SAMPLE.read_bytes()
    done = import_jobs.upload_file(campaign, SAMPLE.name, data)
    # The shop vouches for its customers' addresses: confirmed at once, no mail.
    import_jobs.start_import(campaign, done, import_jobs.mapping_of(done), BASIS, confirmed=True)
    import_jobs.upload_file(campaign, SAMPLE.name, data)
