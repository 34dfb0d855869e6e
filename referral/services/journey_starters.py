"""Starter journeys: definitions a marketer recognises at once (welcome after
confirmation, a friend joined, milestone congratulations, win-back after 30 days), each
with the messages its ``send`` steps name, so that nobody begins from a blank box.

Names and summaries are translatable; the messages are written in English, to be
rewritten (and written in other languages) on the messages page.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from referral.domain.errors import N_


@dataclass(frozen=True)
class Starter:
    """A definition to begin from, with the messages its ``send`` steps name (subject and
    text, in English)."""

    key: str
    name: str
    summary: str
    definition: dict[str, Any]
    messages: dict[str, tuple[str, str]] = field(default_factory=dict)

    def fresh_definition(self) -> dict[str, Any]:
        return copy.deepcopy(self.definition)


def _send(step_id: str, template: str, **more: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "template": template, **more}


EXIT = {"id": "end", "type": "exit"}
STARTERS: tuple[Starter, ...] = (
    Starter(
        "welcome",
        N_("Welcome after confirmation"),
        N_("Greets a customer the moment they confirm their address, quoting the campaign."),
        {
            "trigger": {"type": "event", "event": "signup_confirmed"},
            "steps": [_send("welcome", "welcome"), EXIT],
        },
        {
            "welcome": (
                "Welcome, {{ customer.first_name }}!",
                "Hi {{ customer.first_name }},\n\nthanks for joining "
                "{{ campaign.name if campaign else 'us' }}. Share your link with friends:\n"
                "{{ referral_link }}\n",
            )
        },
    ),
    Starter(
        "friend_joined",
        N_("Your friend joined"),
        N_("Tells an advocate that a friend joined through their link, with their points."),
        {
            "trigger": {"type": "event", "event": "referral_confirmed"},
            "steps": [_send("tell", "friend_joined"), EXIT],
            "reentry": "every_time",
            "cap": {"limit": 3, "days": 7},
        },
        {
            "friend_joined": (
                "{{ friends|map(attribute='name')|first|default('A friend') }} joined "
                "thanks to you",
                "Hi {{ customer.first_name }},\n\n"
                "{{ friends|map(attribute='name')|first|default('A friend') }} just joined "
                "through your link. {{ friends_count }} friends so far, {{ points }} points.\n",
            )
        },
    ),
    Starter(
        "milestone",
        N_("Milestone congratulations"),
        N_("Congratulates a customer on a milestone and names the next one."),
        {
            "trigger": {"type": "event", "event": "milestone_reached"},
            "steps": [_send("congratulate", "milestone"), EXIT],
            "reentry": "every_time",
        },
        {
            "milestone": (
                "Congratulations, {{ customer.first_name }}!",
                "You reached a milestone: {{ friends_count }} friends joined thanks to you."
                "{% if next_milestone %} Only {{ next_milestone.remaining }} more to the "
                "next reward.{% endif %}\n",
            )
        },
    ),
    Starter(
        "win_back",
        N_("Win-back after 30 days"),
        N_(
            "Writes to a customer who has done nothing for 30 days, then waits two weeks for "
            "a purchase and tags those who come back."
        ),
        {
            "trigger": {"type": "inactivity", "days": 30},
            "steps": [
                _send("miss_you", "win_back"),
                {
                    "id": "bought",
                    "type": "wait_for",
                    "event": "purchase",
                    "timeout": {"days": 14},
                    "next": "returned",
                    "on_timeout": "end",
                },
                {"id": "returned", "type": "tag", "tag": "won_back"},
                EXIT,
            ],
            "goal": {"event": "purchase", "within_days": 30},
            "reentry": "every_time",
        },
        {
            "win_back": (
                "We miss you, {{ customer.first_name }}",
                "Hi {{ customer.first_name }},\n\nit has been a while. You still have "
                "{{ points }} points. Your link: {{ referral_link }}\n",
            )
        },
    ),
)


def starter(key: object) -> Starter | None:
    """The starter ``key``; None for no such starter."""
    return next((s for s in STARTERS if s.key == key), None)
