"""Small worlds that tests of more than one layer build alike: a referral tree, a burst of
sign-ups from one device, a journey definition (good and faulty)."""

from __future__ import annotations

from typing import Any

from referral.extensions import db
from referral.models import Campaign, Participation, Workspace
from referral.services.events import report_event
from referral.services.joining import JoinRequest, Visitor, join_campaign
from referral.services.rules import add_rule
from tests.factories import Factory

# A journey a ``vip`` tag starts: a webhook, then the end; and one with a step nothing reaches.
VIP: dict[str, Any] = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [
        {"id": "hook", "type": "webhook", "label": "vip"},
        {"id": "end", "type": "exit"},
    ],
}
ORPHAN: dict[str, Any] = {
    "trigger": {"type": "tag_added", "tag": "vip"},
    "steps": [{"id": "start", "type": "exit"}, {"id": "orphan", "type": "exit"}],
}
SAME_DEVICE = Visitor(ip="198.51.100.7", user_agent="FraudBot/1.0")


def join(campaign: Campaign, email: str, code: str | None = None, **kw: Any) -> Participation:
    """``email`` joins ``campaign`` (through the owner of ``code``); ``visitor=`` says from
    where, the rest are :class:`JoinRequest` fields."""
    visitor = kw.pop("visitor", None)
    request = JoinRequest(email=email, referral_code=code, **kw)
    return join_campaign(campaign, request, visitor).participation


def grow(factory: Factory, campaign: Campaign, size: int) -> list[Participation]:
    """A root with ``size - 1`` confirmed people below it, each referred by the one
    ``n // 3`` (a ternary tree), with real-looking addresses."""
    workspace = db.session.get(Workspace, campaign.workspace_id)
    rows: list[Participation] = []
    for n in range(size):
        customer = factory.customer(workspace, f"Person.{n}@Example.com")
        parent = rows[(n - 1) // 3] if n else None
        rows.append(
            factory.participation(
                campaign,
                parent,
                customer=customer,
                status="confirmed",
                channel="qr",
                utm={"utm_source": "newsletter"} if not n else {},
            )
        )
    return rows


def device_burst(campaign: Campaign) -> dict[str, Participation]:
    """An advocate paid 100 points per friend whose fourth friend from one device is flagged
    (rewards held), and a sign-up with a throwaway address, flagged too."""
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    advocate = join(campaign, "ada@example.com", confirmed=True)
    friends = [
        join(
            campaign,
            f"friend{i}@example.com",
            advocate.referral_code,
            confirmed=True,
            visitor=SAME_DEVICE,
        )
        for i in range(4)
    ]
    throwaway = join(campaign, "temp@mailinator.com", confirmed=True)
    assert [f.status for f in friends] == ["confirmed"] * 3 + ["flagged"]
    assert throwaway.status == "flagged"
    return {"advocate": advocate, "device": friends[3], "throwaway": throwaway}


def referred_buyer(campaign: Campaign) -> Participation:
    """A referred customer who consented, confirmed, bought, and was rewarded (50 points for
    confirming, 300 for the purchase of order-77)."""
    add_rule(campaign, {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 50})
    add_rule(campaign, {"event": "purchase", "level": 0, "reward": "points", "amount": 300})
    advocate = join(campaign, "otto@example.com", confirmed=True)
    person = join(
        campaign,
        "Eva.Muster@Example.com",
        advocate.referral_code,
        confirmed=True,
        name="Eva Muster",
        locale="de",
        consent_text="I agree to the official rules and to e-mails about this campaign.",
        consent_version="2024-03",
    )
    report_event(campaign, person, "purchase", amount=2500, currency="EUR", external_id="order-77")
    return person


def three_friends(campaign: Campaign) -> dict[str, Participation]:
    """Anna, paid 100 points per friend, with two confirmed friends (Ben by WhatsApp, Cleo)
    and one pending (Dan)."""
    add_rule(campaign, {"event": "signup_confirmed", "level": 1, "reward": "points", "amount": 100})
    anna = join(campaign, "anna@example.com", confirmed=True, name="Anna Berg")
    ben = join(campaign, "ben@example.com", anna.referral_code, confirmed=True, channel="whatsapp")
    cleo = join(campaign, "cleo@example.com", anna.referral_code, confirmed=True)
    dan = join(campaign, "dan@example.com", anna.referral_code)
    return {"anna": anna, "ben": ben, "cleo": cleo, "dan": dan}
