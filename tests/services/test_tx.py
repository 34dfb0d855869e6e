"""The unit of work: does a use case commit all of its writes or none of them?"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError

from referral.domain.errors import Conflict, NotFound, ValidationFailed
from referral.extensions import db
from referral.models import Participation, Workspace
from referral.services.rows import committed_columns
from referral.services.tx import _KEPT, atomic, in_unit, keep_loaded, retry_on_contention
from tests.factories import Factory


def _slugs() -> set[str]:
    """The workspaces the database holds, read in a fresh transaction."""
    db.session.rollback()
    return set(db.session.scalars(select(Workspace.slug)))


def _add(slug: str) -> Workspace:
    row = Workspace(slug=slug, name=slug.title())
    db.session.add(row)
    db.session.flush()
    return row


def _locked() -> OperationalError:
    return OperationalError("UPDATE workspaces", {}, Exception("database is locked"))


def test_a_unit_that_returns_commits_its_writes(app: Flask) -> None:
    @atomic
    def create() -> int:
        return _add("north").id

    assert create() > 0
    assert _slugs() == {"north"}


def test_the_context_manager_commits_its_block(app: Flask) -> None:
    with atomic():
        _add("north")
        assert in_unit()
    assert not in_unit()
    assert _slugs() == {"north"}


@pytest.mark.parametrize(
    "error",
    [
        ValidationFailed.on("name", "Too long."),
        Conflict("Not open."),
        NotFound("No such thing."),
    ],
)
def test_a_domain_error_rolls_back_everything_and_is_raised(app: Flask, error: Exception) -> None:
    @atomic
    def create() -> None:
        _add("north")
        _add("south")
        raise error

    with pytest.raises(type(error)):
        create()
    assert _slugs() == set()


def test_the_context_manager_rolls_back_on_a_domain_error(app: Flask) -> None:
    with pytest.raises(Conflict), atomic():
        _add("north")
        raise Conflict("Not open.")
    assert _slugs() == set()


def test_an_integrity_error_rolls_back_the_unit_and_is_raised(app: Flask) -> None:
    with atomic():
        _add("taken")

    @atomic
    def create() -> None:
        _add("fresh")
        _add("taken")  # the unique slug refuses it

    with pytest.raises(IntegrityError):
        create()
    assert _slugs() == {"taken"}


def test_a_duplicate_caught_in_a_savepoint_counts_as_already_done(app: Flask) -> None:
    with atomic():
        _add("taken")

    @atomic
    def create() -> str:
        _add("fresh")
        try:
            with db.session.begin_nested():
                _add("taken")
        except IntegrityError:
            return "already done"
        return "created"

    assert create() == "already done"
    assert _slugs() == {"taken", "fresh"}


def test_database_is_locked_runs_the_whole_unit_again(app: Flask) -> None:
    attempts = []

    @atomic
    def create() -> None:
        attempts.append(1)
        _add(f"try-{len(attempts)}")
        if len(attempts) < 3:
            db.session.flush()
            raise _locked()

    create()
    assert len(attempts) == 3
    assert _slugs() == {"try-3"}  # the refused attempts left nothing behind


def test_another_operational_error_is_not_retried(app: Flask) -> None:
    attempts = []

    @atomic()
    def create() -> None:
        attempts.append(1)
        _add("north")
        raise OperationalError("SELECT 1", {}, Exception("no such table: nowhere"))

    with pytest.raises(OperationalError):
        create()
    assert len(attempts) == 1
    assert _slugs() == set()


def test_an_inner_unit_joins_the_outer_one(app: Flask) -> None:
    @atomic
    def inner() -> None:
        _add("inner")

    with pytest.raises(Conflict), atomic():
        inner()
        raise Conflict("The outer use case refuses.")
    assert _slugs() == set()


def test_only_the_outermost_unit_retries(app: Flask) -> None:
    calls = {"outer": 0, "inner": 0}

    @atomic
    def inner() -> None:
        calls["inner"] += 1
        if calls["inner"] == 1:
            raise _locked()

    @atomic
    def outer() -> None:
        calls["outer"] += 1
        _add(f"outer-{calls['outer']}")
        inner()

    outer()
    assert calls == {"outer": 2, "inner": 2}
    assert _slugs() == {"outer-2"}


def test_retry_on_contention_still_runs_a_function_again(app: Flask) -> None:
    attempts = []

    @retry_on_contention
    def create() -> None:
        attempts.append(1)
        _add(f"try-{len(attempts)}")
        if len(attempts) == 1:
            raise _locked()
        db.session.commit()

    create()
    assert len(attempts) == 2
    assert _slugs() == {"try-2"}
    assert db.session.scalar(select(func.count()).select_from(Workspace)) == 1


def _participation_columns(row: object) -> dict[str, object]:
    mapper = inspect(row).mapper
    return {a.key: getattr(row, a.key) for a in mapper.column_attrs}


def test_a_kept_row_answers_after_the_commit_with_what_was_committed(factory: Factory) -> None:
    person = factory.participation(factory.campaign(status="live"), status="pending")
    db.session.commit()
    row_id = person.id

    @atomic
    def confirm() -> Participation:
        found = db.session.get_one(Participation, row_id)
        found.status = "confirmed"  # flushed by the commit: the kept value is the stored one
        keep_loaded(found)
        return found

    kept = confirm()
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        values = _participation_columns(kept)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert seen == []  # no reload after the commit
    assert not inspect(kept).modified
    db.session.expunge_all()
    assert _participation_columns(db.session.get_one(Participation, row_id)) == values
    assert values["status"] == "confirmed"


def test_a_rolled_back_unit_keeps_nothing(factory: Factory) -> None:
    person = factory.participation(factory.campaign(status="live"), status="pending")
    db.session.commit()

    @atomic
    def fail() -> None:
        person.status = "confirmed"
        keep_loaded(person)
        db.session.flush()
        raise Conflict("no")

    with pytest.raises(Conflict):
        fail()
    assert inspect(person).expired  # the rollback expired it: read afresh
    assert person.status == "pending"
    assert _KEPT not in db.session.info


def test_a_row_with_an_unloaded_column_is_loaded_again_as_usual(factory: Factory) -> None:
    person = factory.participation(factory.campaign(status="live"))
    db.session.commit()
    with atomic():
        db.session.expire(person, ["status"])
        assert committed_columns(person) is None
        keep_loaded(person)
    assert inspect(person).expired
    assert person.status == db.session.scalar(
        select(Participation.status).where(Participation.id == person.id)
    )
