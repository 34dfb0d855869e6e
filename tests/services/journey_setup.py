"""A shop with journeys for the journey tests: a workspace, a live campaign, message
templates, customers with or without a marketing opt-in, and events recorded the way the
event path records them (the event, then ``enrol_for_event`` in the same transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from referral.extensions import db
from referral.models import Campaign, ConsentRecord, Customer, Event, OutboxMessage, Participation
from referral.models.journey import Journey, JourneyEnrolment, JourneyStepLog
from referral.services import privacy_requests
from referral.services.journey_enrolment import enrol_for_event
from referral.services.journey_templates import save_template
from referral.services.journeys import create_journey
from tests.factories import Factory

# A Monday, 10:00 UTC.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass
class Shop:
    factory: Factory
    campaign: Campaign

    @property
    def workspace_id(self) -> int:
        return self.campaign.workspace_id

    def person(
        self,
        *,
        consent: bool = True,
        name: str = "Anna Jansen",
        email: str | None = None,
        referrer: Participation | None = None,
        **customer: Any,
    ) -> Participation:
        """A confirmed participant of the campaign; ``consent``: a marketing opt-in."""
        workspace = self.campaign.workspace_id
        address = email or f"{name.split()[0].lower()}{next_number()}@example.org"
        row = Customer(
            workspace_id=workspace, email=address, email_display=address, name=name, **customer
        )
        db.session.add(row)
        db.session.flush()
        if consent:
            give_consent(row, "marketing", T0 - DAY)
        db.session.commit()
        return self.factory.participation(
            self.campaign, referrer, customer=row, status="confirmed", confirmed_at=T0 - DAY
        )

    def event(self, whom: Participation, kind: str, at: datetime = T0) -> Event:
        """Record ``kind`` for ``whom`` at ``at`` and enrol, in one transaction."""
        event = Event(
            workspace_id=self.workspace_id,
            customer_id=whom.customer_id,
            campaign_id=whom.campaign_id,
            participation_id=whom.id,
            kind=kind,
            occurred_at=at,
        )
        db.session.add(event)
        enrol_for_event(event, now=at)
        db.session.commit()
        return event

    def journey(
        self,
        steps: list[dict[str, Any]],
        *,
        trigger: dict[str, Any] | None = None,
        status: str = "running",
        campaign: bool = False,
        **more: Any,
    ) -> Journey:
        definition = {
            "trigger": trigger or {"type": "event", "event": "signup_confirmed"},
            "steps": steps,
            **more,
        }
        return create_journey(
            self.workspace_id,
            "Welcome",
            definition,
            campaign_id=self.campaign.id if campaign else None,
            status=status,
        )


_numbers = iter(range(1, 10**9))


def next_number() -> int:
    return next(_numbers)


def give_consent(customer: Customer, topic: str, at: datetime, action: str = "given") -> None:
    db.session.add(
        ConsentRecord(
            customer_id=customer.id,
            purpose=topic,
            text="Send me news.",
            version="1",
            given_at=at,
            withdrawn_at=at if action == "withdrawn" else None,
            action=action,
        )
    )


def make_shop(factory: Factory) -> Shop:
    campaign = factory.campaign(status="live", name="Spring referral", slug="spring")
    for key, subject, text in (
        (
            "welcome",
            "Welcome, {{ customer.first_name }}",
            "Thanks for joining {{ campaign.name }}.",
        ),
        ("second", "Still there, {{ customer.first_name }}?", "Your link: {{ referral_link }}"),
        ("vip", "For our VIPs", "Hello {{ customer.name }}"),
        ("regular", "For everyone", "Hello {{ customer.name }}"),
    ):
        save_template(campaign.workspace_id, key, "en", subject, text)
    save_template(
        campaign.workspace_id, "welcome", "de", "Willkommen", "Danke, {{ customer.name }}."
    )
    return Shop(factory, campaign)


def send(step_id: str, template: str = "welcome", **more: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "template": template, **more}


def end(step_id: str = "end") -> dict[str, Any]:
    return {"id": step_id, "type": "exit"}


def enrolments(journey: Journey | None = None) -> list[JourneyEnrolment]:
    db.session.rollback()
    query = select(JourneyEnrolment).order_by(JourneyEnrolment.id)
    if journey is not None:
        query = query.where(JourneyEnrolment.journey_id == journey.id)
    return list(db.session.scalars(query))


def outcomes(enrolment: JourneyEnrolment) -> list[tuple[str, str]]:
    """(step, outcome) of the enrolment's log, in order."""
    db.session.rollback()
    rows = db.session.execute(
        select(JourneyStepLog.step, JourneyStepLog.outcome)
        .where(JourneyStepLog.enrolment_id == enrolment.id)
        .order_by(JourneyStepLog.id)
    ).all()
    return [(step, outcome) for step, outcome in rows]


def privacy_footer(whom: Participation, label: str = "Download or erase your data") -> str:
    """What every message to ``whom`` ends with: the link to their privacy page."""
    url = privacy_requests.page_url(whom.campaign.workspace_id, whom.customer_id)
    return f"\n\n--\n{label}\n{url}\n"


def mails() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
