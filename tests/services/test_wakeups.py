"""Work for the worker is handed over when, and only when, its transaction commits."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from referral import tasks
from referral.extensions import db
from referral.models.journey import JourneyEnrolment
from referral.services import outbox, wakeups
from referral.services.events import record_event
from referral.services.tx import atomic
from tests.factories import Factory
from tests.services.journey_setup import Shop


@pytest.fixture
def woken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(tasks, "deliver_outbox_task", lambda: calls.append("mail"))
    monkeypatch.setattr(tasks, "run_journeys_task", lambda: calls.append("journeys"))
    return calls


def _queue(workspace_id: int) -> None:
    outbox.queue(workspace_id, "a@example.org", "test", outbox.Mail("Hello", "Hi there"))


def test_mail_queued_in_a_committed_transaction_wakes_the_mail_worker_once(
    app, factory: Factory, woken: list[str]
) -> None:
    workspace = factory.workspace()
    db.session.commit()
    _queue(workspace.id)
    _queue(workspace.id)
    assert woken == []  # nothing before the commit
    db.session.commit()
    assert woken == ["mail"]
    db.session.commit()
    assert woken == ["mail"]  # a later commit that queued nothing wakes nothing


def test_in_the_worker_queued_mail_waits_for_the_job_to_deliver_it(
    app, factory: Factory, woken: list[str]
) -> None:
    """A journey job queues mail and delivers the outbox when it ends: its own commits do
    not queue another mail job."""
    workspace = factory.workspace()
    db.session.commit()
    app.config["WORKER_DELIVERS_MAIL"] = True
    _queue(workspace.id)
    db.session.commit()
    assert woken == []


def test_a_released_savepoint_wakes_nothing_until_its_transaction_commits(
    app, factory: Factory, woken: list[str]
) -> None:
    workspace = factory.workspace()
    db.session.commit()
    with db.session.begin_nested():
        _queue(workspace.id)
    assert woken == []  # the mail is not committed yet: a worker would not find it
    db.session.commit()
    assert woken == ["mail"]


def test_a_rolled_back_transaction_wakes_nothing(app, factory: Factory, woken: list[str]) -> None:
    workspace = factory.workspace()
    db.session.commit()

    @atomic
    def queue_then_fail() -> None:
        _queue(workspace.id)
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        queue_then_fail()
    db.session.commit()
    assert woken == []


def test_recording_an_event_enrols_its_journeys_and_wakes_the_runner_after_commit(
    app, shop: Shop, woken: list[str]
) -> None:
    journey = shop.journey([{"id": "bye", "type": "exit"}])
    anna = shop.person()
    woken.clear()
    record_event(shop.workspace_id, anna, "signup_confirmed")
    assert woken == []
    db.session.commit()
    assert woken == ["journeys"]
    enrolled = db.session.scalars(
        select(JourneyEnrolment.customer_id).where(JourneyEnrolment.journey_id == journey.id)
    ).all()
    assert enrolled == [anna.customer_id]


def test_in_the_background_a_commit_that_queued_mail_wakes_the_worker_from_a_thread(
    app, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    woke = threading.Event()
    threads: list[str] = []

    def enqueue() -> None:
        threads.append(threading.current_thread().name)
        woke.set()

    monkeypatch.setattr(tasks, "deliver_outbox_task", enqueue)
    app.config["WAKE_IN_BACKGROUND"] = True
    workspace = factory.workspace()
    db.session.commit()
    _queue(workspace.id)
    db.session.commit()
    assert woke.wait(10)
    assert threads == ["wake-mail"]


def test_coalesced_wakes_cover_every_request_made_before_each_send() -> None:
    """Requests made while a send runs are covered by one more send, and the last send
    comes after the last request: none is lost, and a burst costs few sends."""
    requested = 0
    seen: list[int] = []
    release = threading.Event()
    done = threading.Event()

    def send() -> None:
        seen.append(requested)  # what this send covers: the job reads after it
        release.wait(10)  # a slow enqueue: requests pile up meanwhile
        if seen[-1] == 50:
            done.set()

    wake = wakeups.Coalesced(send, "test")
    for _ in range(50):
        requested += 1
        wake()
        if requested == 1:
            while not seen:  # the first send is under way, holding the thread
                threading.Event().wait(0.001)
    release.set()
    assert done.wait(10)
    assert seen[0] >= 1
    assert seen[-1] == 50
    assert len(seen) <= 3  # the 49 made during the first send: one send, maybe two


def test_coalesced_drain_sends_only_when_asked() -> None:
    sent: list[int] = []
    wake = wakeups.Coalesced(lambda: sent.append(1), "test")
    wake.drain()
    assert sent == []
    wake.asked.set()  # asked, and the thread has not run yet
    wake.drain()
    assert sent == [1]


def test_under_a_stream_of_commits_the_sends_keep_their_spacing_and_cover_the_last() -> None:
    """A commit every millisecond: the thread sends no closer together than its spacing,
    so a burst wakes the worker a few times, not once per commit; the last request is
    still covered by a send after it."""
    sends: list[tuple[float, int]] = []
    requested = 0
    covered_all = threading.Event()

    def send() -> None:
        sends.append((time.monotonic(), requested))
        if requested == 400:
            covered_all.set()

    wake = wakeups.Coalesced(send, "test", spacing=0.1)
    for _ in range(400):
        requested += 1
        wake()
        time.sleep(0.001)
    assert covered_all.wait(10)
    gaps = [later - earlier for (earlier, _), (later, _) in zip(sends, sends[1:], strict=False)]
    assert gaps and min(gaps) >= 0.1
    assert len(sends) < 400 / 4  # far fewer sends than commits
