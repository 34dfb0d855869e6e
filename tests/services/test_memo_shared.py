"""Configuration kept across transactions under the token the database replaces on every
change of it (``memo.shared``, ``models.config_version``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy import inspect as sa_inspect

from referral.extensions import db
from referral.models import ConfigVersion, RewardRule, Workspace
from referral.models.journey import Journey, MessageTemplate
from referral.models.webhooks import WebhookEndpoint
from referral.services import memo, rewards, webhooks
from tests.factories import Factory


@pytest.fixture
def selects(app) -> Iterator[list[str]]:
    """The SELECTs the session runs, by the table they read first."""
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            found = re.search(r"\bFROM\s+\"?(\w+)", statement)
            seen.append(found.group(1) if found else statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def _token() -> str | None:
    return db.session.scalar(select(ConfigVersion.token))


def _endpoint(workspace: Workspace, url: str, events: list[str] | None = None) -> None:
    db.session.add(
        WebhookEndpoint(
            workspace_id=workspace.id,
            url=url,
            secret="s" * 32,
            events=events or ["reward.granted"],
        )
    )


def _urls(workspace: Workspace) -> list[str]:
    return sorted(e.url for e in webhooks.active_endpoints(workspace_id(workspace)))


def workspace_id(workspace: Workspace) -> int:
    """The id without loading the (expired) workspace: the tests count SELECTs."""
    identity = sa_inspect(workspace).identity
    assert identity is not None
    return int(identity[0])


def test_the_next_transaction_reads_the_token_not_the_endpoints(
    app, factory: Factory, selects
) -> None:
    workspace = factory.workspace()
    _endpoint(workspace, "https://a.example.org/hook")
    db.session.commit()
    assert _urls(workspace) == ["https://a.example.org/hook"]
    db.session.commit()
    selects.clear()
    kept = webhooks.active_endpoints(workspace_id(workspace))
    assert [e.url for e in kept] == ["https://a.example.org/hook"]
    assert selects == ["config_version"]
    assert kept[0] in db.session  # an object of this session, as a query gives
    assert kept[0] not in db.session.dirty
    db.session.commit()
    selects.clear()
    assert _urls(workspace) == ["https://a.example.org/hook"]
    assert selects == ["config_version"]


def test_a_change_from_another_connection_is_seen_by_the_next_transaction(
    app, factory: Factory
) -> None:
    workspace = factory.workspace()
    db.session.commit()
    assert _urls(workspace) == []
    db.session.commit()
    with db.engine.begin() as other:  # as another process would, past this one's memory
        other.execute(
            insert(WebhookEndpoint.__table__).values(
                workspace_id=workspace.id,
                url="https://e.example.org/hook",
                secret="s" * 32,
                events=["reward.granted"],
                active=True,
                created_at=workspace.created_at,
            )
        )
    db.session.commit()  # the next transaction
    assert _urls(workspace) == ["https://e.example.org/hook"]
    db.session.commit()
    with db.engine.begin() as other:
        other.execute(update(WebhookEndpoint.__table__).values(active=False))
    db.session.commit()
    assert _urls(workspace) == []


def test_a_rolled_back_change_leaves_nothing_behind(app, factory: Factory) -> None:
    workspace = factory.workspace()
    _endpoint(workspace, "https://a.example.org/hook")
    db.session.commit()
    before = _token()
    assert _urls(workspace) == ["https://a.example.org/hook"]
    db.session.commit()
    _endpoint(workspace, "https://b.example.org/hook")
    assert _urls(workspace) == ["https://a.example.org/hook", "https://b.example.org/hook"]
    assert _token() != before  # this transaction's own token
    db.session.rollback()
    assert _token() == before
    assert _urls(workspace) == ["https://a.example.org/hook"]


def test_a_change_to_a_kept_object_stays_in_its_transaction(app, factory: Factory) -> None:
    workspace = factory.workspace()
    _endpoint(workspace, "https://a.example.org/hook", ["reward.granted"])
    db.session.commit()
    webhooks.active_endpoints(workspace_id(workspace))
    db.session.commit()
    mine = webhooks.active_endpoints(workspace_id(workspace))[0]
    mine.events.append("participant.confirmed")  # in place, unflushed: not a change seen
    db.session.rollback()
    assert webhooks.active_endpoints(workspace_id(workspace))[0].events == ["reward.granted"]


def test_rules_are_kept_and_a_new_rule_pays_at_once(app, factory: Factory, selects) -> None:
    workspace = factory.workspace()
    campaign = factory.campaign(workspace=workspace)
    db.session.commit()
    assert rewards._rules(campaign) == []
    db.session.commit()
    selects.clear()
    assert rewards._rules(campaign) == []
    assert "reward_rules" not in selects
    db.session.add(
        RewardRule(
            campaign_id=campaign.id, event="signup_confirmed", level=0, reward="points", amount=5
        )
    )
    db.session.commit()
    assert [rule.amount for rule in rewards._rules(campaign)] == [5]


def test_without_a_token_row_each_transaction_reads_afresh(app, factory: Factory, selects) -> None:
    workspace = factory.workspace()
    _endpoint(workspace, "https://a.example.org/hook")
    db.session.commit()
    db.session.execute(delete(ConfigVersion))
    db.session.commit()
    assert _urls(workspace) == ["https://a.example.org/hook"]
    db.session.commit()
    selects.clear()
    assert _urls(workspace) == ["https://a.example.org/hook"]
    assert selects == ["config_version", "webhook_endpoints"]
    _endpoint(workspace, "https://b.example.org/hook")  # a change brings the row back
    db.session.commit()
    assert _token() is not None


@pytest.mark.parametrize(
    "model, values, change",
    [
        (
            RewardRule,
            {"event": "signup_confirmed", "level": 0, "reward": "points", "amount": 1},
            {"amount": 2},
        ),
        (Journey, {"name": "J", "definition": {}, "trigger_kind": "entered"}, {"name": "K"}),
        (
            WebhookEndpoint,
            {"url": "https://x.example.org/", "secret": "s" * 32, "events": []},
            {"url": "https://y.example.org/"},
        ),
        (
            MessageTemplate,
            {"key": "mail:x", "locale": "en", "subject": "S", "text": "T"},
            {"subject": "U"},
        ),
    ],
)
def test_every_write_to_a_configuration_table_draws_a_new_token(
    app, factory: Factory, model, values, change
) -> None:
    workspace = factory.workspace()
    campaign = factory.campaign(workspace=workspace)
    db.session.commit()
    owner = {"campaign_id": campaign.id} if model is RewardRule else {"workspace_id": workspace.id}
    tokens = [_token()]
    db.session.add(model(**owner, **values))
    db.session.commit()
    tokens.append(_token())
    db.session.execute(update(model).values(**change))
    db.session.commit()
    tokens.append(_token())
    db.session.execute(delete(model))
    db.session.commit()
    tokens.append(_token())
    assert None not in tokens
    assert len(set(tokens)) == 4


def test_a_truncate_draws_a_new_token_on_postgresql(app, factory: Factory) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    before = _token()
    db.session.execute(text("TRUNCATE webhook_endpoints CASCADE"))
    db.session.commit()
    assert _token() not in (None, before)


def test_kept_values_are_bounded(app, factory: Factory, monkeypatch) -> None:
    monkeypatch.setattr(memo, "KEPT_MAX", 3)
    monkeypatch.setattr(memo, "_kept", {})
    for key in range(5):
        memo.shared(("test", key), lambda key=key: (key,))
    assert len(memo._kept) <= 3
