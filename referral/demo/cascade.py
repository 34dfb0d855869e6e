"""The demo's referral cascade: a few thousand people who joined over six weeks, most
through a friend's link.

Referrers are picked by preferential attachment, so the picture is a few large branches
carried by strong advocates and many small ones, as real word of mouth looks. Each person
gets a timeline (the click that brought them, joining, confirming, sometimes a purchase)
and the rewards it pays.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from referral.demo.rows import flushed
from referral.domain.codes import new_code
from referral.domain.emails import normalise_email
from referral.extensions import db
from referral.models import Campaign, Click, Customer, Participation, Workspace
from referral.services.events import record_event
from referral.services.rewards import pay_for_event

FIRST = [
    "Anna",
    "Ben",
    "Chen",
    "Daan",
    "Eva",
    "Femke",
    "Grace",
    "Hao",
    "Ines",
    "Jan",
    "Kai",
    "Lena",
    "Mei",
    "Noah",
    "Olivia",
    "Pieter",
    "Qing",
    "Ruth",
    "Sven",
    "Tao",
    "Uma",
    "Vera",
    "Wei",
    "Xin",
    "Yara",
    "Zoe",
    "Lukas",
    "Mila",
    "Finn",
    "Sara",
]
LAST = [
    "Smith",
    "Müller",
    "de Vries",
    "Wang",
    "Lin",
    "Jansen",
    "Schmidt",
    "Bakker",
    "Li",
    "Chen",
    "Huang",
    "Visser",
    "Weber",
    "Zhang",
    "Meyer",
    "Wu",
    "Hoffmann",
    "Smit",
    "Liu",
    "Wagner",
]
REFERRED_CHANNELS = ["link", "qr", "whatsapp", "email", "wechat", "x", "line"]
REFERRED_WEIGHTS = [52, 16, 13, 8, 6, 3, 2]
ROOT_SOURCES = ["newsletter", "instagram", "store", "google"]


# (id, depth, path) of a participant: plain tuples, so the session can be emptied in batches.
Placed = tuple[int, int, str]


def _customer(workspace: Workspace, rng: random.Random, n: int) -> Customer:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    raw = f"{first}.{last.replace(' ', '')}{n}@example.com".lower()
    return Customer(
        workspace_id=workspace.id,
        email=normalise_email(raw),
        email_display=raw,
        name=f"{first} {last}",
        locale=rng.choice(["en", "en", "de", "nl", "zh_Hans", "zh_Hant"]),
    )


def _pick_referrer(rng: random.Random, tickets: list[int]) -> int:
    """Preferential attachment: a participant with k referrals holds k + 1 tickets."""
    return tickets[rng.randrange(len(tickets))]


def _status(roll: float) -> str:
    """Most confirm, some never do, a few are flagged and fewer still rejected."""
    if roll > 0.99:
        return "rejected"
    return "confirmed" if roll < 0.8 else "pending" if roll < 0.95 else "flagged"


def _participation(
    campaign: Campaign,
    customer: Customer,
    parent: Placed | None,
    joined: datetime,
    rng: random.Random,
) -> Participation:
    """The customer's participation (flushed), referred by ``parent`` or joined directly."""
    roll = rng.random()
    status = _status(roll)
    node = Participation(
        campaign_id=campaign.id,
        customer_id=customer.id,
        referrer_id=parent[0] if parent else None,
        depth=parent[1] + 1 if parent else 0,
        path=f"{parent[2]}{parent[0]}/" if parent else "/",
        referral_code=new_code(),
        channel=rng.choices(REFERRED_CHANNELS, REFERRED_WEIGHTS)[0] if parent else "direct",
        utm={} if parent else {"utm_source": rng.choice(ROOT_SOURCES)},
        status=status,
        referral_status="referred" if parent else "none",
        flag_reasons=["many_signups_same_device"] if status == "flagged" else [],
        created_at=joined,
        confirmed_at=joined + timedelta(minutes=rng.randint(1, 600))
        if status in ("confirmed", "flagged") and roll < 0.985
        else None,
    )
    return flushed(node)


def cascade(
    workspace: Workspace,
    campaign: Campaign,
    size: int,
    rng: random.Random,
    progress: Callable[[float], None],
) -> int:
    """``size`` people join ``campaign`` between its start and an hour ago, committed in
    batches of 200 (``progress`` hears of each). Returns how many joined."""
    start = campaign.starts_at or datetime.now(UTC) - timedelta(weeks=6)
    span = (datetime.now(UTC) - timedelta(hours=1) - start).total_seconds()
    nodes: list[Placed] = []
    tickets: list[int] = []  # indexes into nodes, confirmed ones only
    workspace_id, campaign_id = workspace.id, campaign.id
    for n in range(size):
        joined = start + timedelta(seconds=span * (n / size) ** 0.8)
        customer = _customer(workspace, rng, n)
        db.session.add(customer)
        parent_index = _pick_referrer(rng, tickets) if tickets and rng.random() > 0.07 else None
        parent = nodes[parent_index] if parent_index is not None else None
        db.session.flush()
        node = _participation(campaign, customer, parent, joined, rng)
        nodes.append((node.id, node.depth, node.path))
        _timeline(workspace, campaign, node, parent[0] if parent else None, rng)
        if node.status == "confirmed":
            tickets.append(len(nodes) - 1)
            if parent_index is not None:
                tickets.append(parent_index)
        if n % 200 == 199:
            db.session.commit()
            db.session.expunge_all()
            # both rows were committed above, so neither is None
            workspace = db.session.get(Workspace, workspace_id)  # type: ignore[assignment]
            campaign = db.session.get(Campaign, campaign_id)  # type: ignore[assignment]
            progress(0.1 + 0.85 * n / size)
    return len(nodes)


def _timeline(
    workspace: Workspace,
    campaign: Campaign,
    node: Participation,
    parent_id: int | None,
    rng: random.Random,
) -> None:
    """The click through the referrer's link, joining, confirming and now and then a
    purchase, each on the timeline and paid as the rules say."""
    if parent_id is not None:
        db.session.add(
            Click(
                campaign_id=campaign.id,
                participation_id=parent_id,
                channel=node.channel,
                created_at=node.created_at - timedelta(minutes=rng.randint(1, 120)),
            )
        )
    events: list[tuple[str, datetime, int | None]] = [("entered", node.created_at, None)]
    if node.confirmed_at:
        events.append(("signup_confirmed", node.confirmed_at, None))
        if rng.random() < 0.12:
            events.append(("purchase", node.confirmed_at + timedelta(days=rng.randint(1, 9)), 2499))
    for kind, at, amount in events:
        event = record_event(
            workspace.id,
            node,
            kind,
            amount=amount,
            currency="EUR" if amount else None,
            external_id=f"demo-{kind}-{node.id}",
            occurred_at=at,
        )
        if kind in ("signup_confirmed", "purchase"):
            db.session.flush()
            pay_for_event(event, node, campaign)
