"""The demo's campaigns, one of each kind, and the reward rules of its referral campaign."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from referral.domain.campaign_content import changed_settings
from referral.extensions import db
from referral.models import Campaign, RewardRule

ESPRESSO_RULES = {
    "sponsor": "Demo Coffee Roasters B.V.",
    "sponsor_address": "Koffiestraat 1, 1011 AB Amsterdam, NL",
    "timezone": "Europe/Amsterdam",
    "regions": ["NL", "BE", "DE"],
    "min_age": 18,
    "entry_limit": 1,
    "prizes": [{"name": "Espresso machine", "value": 89900, "currency": "EUR", "quantity": 1}],
    "winners": 1,
    "alternates": 2,
    "claim_days": 14,
    "free_entry_method": "Enter on this page; no purchase is needed.",
}
# The referral campaign's words in German and Dutch (the Chinese pages show the English ones,
# with a note saying so).
COFFEE_WORDS = changed_settings(
    {},
    {
        "benefit": "50 points for joining, 100 for every friend who joins.",
        "translations": {
            "de": {
                "name": "Freunde einladen, eine Tüte Kaffee gratis",
                "description": (
                    "Teile deinen Link: Wenn eine Freundin oder ein Freund mitmacht, bekommt "
                    "ihr beide Punkte für eine Gratistüte."
                ),
                "benefit": "50 Punkte fürs Mitmachen, 100 für jede Freundin und jeden Freund.",
                "consent_text": (
                    "Ich bin einverstanden, dass Demo Coffee Roasters mir E-Mails zu "
                    "„Freunde einladen, eine Tüte Kaffee gratis“ schickt und meine Angaben "
                    "dafür speichert. Ich kann meine Einwilligung jederzeit widerrufen."
                ),
            },
            "nl": {
                "name": "Nodig vrienden uit, krijg een gratis zak koffie",
                "description": (
                    "Deel je link: als een vriend meedoet, krijgen jullie allebei punten voor "
                    "een gratis zak."
                ),
                "benefit": "50 punten als je meedoet, 100 voor elke vriend die meedoet.",
            },
        },
    },
    ["en", "de", "nl", "zh_Hans", "zh_Hant"],
)
# ``starts_at`` and ``ends_at`` are offsets from the time of seeding; the first campaign,
# the referral one, carries the cascade.
CAMPAIGNS = (
    {
        "slug": "demo-coffee-friends",
        "name": "Invite friends, get a free bag of coffee",
        "kind": "referral",
        "status": "live",
        "description": (
            "Share your link: when a friend joins, you both get points toward a free bag."
        ),
        "reward_depth": 1,
        "locales": ["en", "de", "nl", "zh_Hans", "zh_Hant"],
        "starts_at": -timedelta(weeks=6),
        "settings": COFFEE_WORDS,
    },
    {
        "slug": "demo-espresso-draw",
        "name": "Win an espresso machine",
        "kind": "lottery",
        "status": "live",
        "description": (
            "One entry per person, bonus entries for friends who join. No purchase necessary."
        ),
        "reward_depth": 1,
        "locales": ["en", "de", "nl"],
        "starts_at": -timedelta(weeks=2),
        "ends_at": timedelta(weeks=2),
        "settings": {"rules": ESPRESSO_RULES},
    },
    {
        "slug": "demo-taste-survey",
        "name": "Tell us your taste, win a tasting box",
        "kind": "survey",
        "status": "live",
        "description": "Five quick questions about how you like your coffee.",
        "reward_depth": 1,
        "locales": ["en", "de"],
        "starts_at": -timedelta(weeks=1),
    },
    {
        "slug": "demo-subscription-trial",
        "name": "30-day coffee subscription trial",
        "kind": "trial",
        "status": "draft",
        "description": "Try the subscription free for 30 days.",
        "reward_depth": 2,
        "locales": ["en"],
    },
)
_OFFSETS = ("starts_at", "ends_at")
REFERRAL_RULES = (
    ("signup_confirmed", 0, "points", 50),
    ("signup_confirmed", 1, "points", 100),
    ("purchase", 1, "points", 500),
)


def campaign_specs(now: datetime) -> list[dict[str, object]]:
    """:data:`CAMPAIGNS` as ``Campaign`` keyword arguments, their dates counted from
    ``now``; every call gets values of its own."""
    return [
        {
            # the values under ``_OFFSETS`` keys are timedeltas
            key: now + value if key in _OFFSETS else copy.deepcopy(value)  # type: ignore[operator]
            for key, value in spec.items()
        }
        for spec in CAMPAIGNS
    ]


def create_campaigns(workspace_id: int, now: datetime) -> list[Campaign]:
    """The demo's campaigns in the session (flushed), live ones published at their start."""
    campaigns = []
    for spec in campaign_specs(now):
        campaign = Campaign(workspace_id=workspace_id, **spec)
        if campaign.status == "live":
            campaign.published_at = campaign.starts_at
        db.session.add(campaign)
        campaigns.append(campaign)
    db.session.flush()
    return campaigns


def add_referral_rules(campaign: Campaign) -> None:
    """Points for joining and for a friend's sign-up or purchase, and a milestone at five."""
    for event, level, reward, amount in REFERRAL_RULES:
        db.session.add(
            RewardRule(
                campaign_id=campaign.id, event=event, level=level, reward=reward, amount=amount
            )
        )
    db.session.add(
        RewardRule(campaign_id=campaign.id, milestone=5, level=1, reward="points", amount=1000)
    )
