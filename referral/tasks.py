"""Background jobs (huey): mail delivery, woken by the requests that queue mail (and every
minute as a safety net), the trial reminder job, every ten minutes, and the journey runner,
woken after an event enrolled someone (and every minute), with the sweep for birthdays,
anniversaries and silences every quarter hour (``referral run-journeys`` does both), the
imports of files too large for a request (woken when one is queued, and every minute), and
the nightly pruning of the tables that grow (``referral prune``).

Storage: Redis when ``REDIS_URL`` is set, otherwise a SQLite file in the instance folder
(``HUEY_SQLITE`` overrides the path), so a single server needs nothing more. Run the worker
with ``huey_consumer referral.tasks.huey``; without a worker, cron can run
``referral send-reminders``, which does the same work. Both are safe to run at once: each
reminder is claimed by a unique key (``services.trials.send_reminders``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

from referral import emails
from referral.services import (
    import_jobs,
    journey_occasions,
    journey_runner,
    outbox,
    retention,
    trials,
    wakeups,
)

log = logging.getLogger("referral.tasks")
INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def make_huey(redis_url: str | None = None, sqlite_path: str | None = None) -> Huey:
    """Redis with a URL; otherwise a SQLite file (created on first use)."""
    if redis_url:
        return RedisHuey("referral", url=redis_url)
    path = sqlite_path or str(INSTANCE / "huey.sqlite")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("referral", filename=path)


huey = make_huey(os.environ.get("REDIS_URL"), os.environ.get("HUEY_SQLITE"))


@huey.periodic_task(crontab(minute="*/10"))
def send_reminders_task() -> tuple[int, int]:
    """The worker's job, the same as ``referral send-reminders``: queue the due trial
    reminders, then deliver the outbox. Returns (reminders queued, messages handled)."""
    with _worker_app().app_context():
        return trials.send_reminders(emails.trial_ending), outbox.deliver_pending()


@huey.periodic_task(crontab(minute="17", hour="3"))
def prune_daily() -> tuple[int, int, int]:
    """Every night, the same as ``referral prune``: the coming months' partitions, the old
    ones dropped, expired rows deleted. Returns (partitions created, dropped, rows deleted)."""
    with _worker_app().app_context():
        done = retention.prune()
        return len(done.created), len(done.dropped), sum(done.deleted.values())


_app = None


def _worker_app() -> Any:
    """One application per worker process (building one per task would cost more than
    the task)."""
    global _app  # noqa: PLW0603
    if _app is None:
        from referral import create_app

        _app = create_app()
        # Every job that can queue mail delivers the outbox when it ends (see below).
        _app.config["WORKER_DELIVERS_MAIL"] = True
    return _app


@huey.task()
def deliver_outbox_task() -> int:
    """Deliver the outbox now: queued by ``wake_mailer`` after a request queued mail."""
    with _worker_app().app_context():
        return outbox.deliver_pending()


@huey.periodic_task(crontab(minute="*"))
def deliver_outbox_periodically() -> int:
    """Retries fall due without a request to wake the worker: look every minute."""
    with _worker_app().app_context():
        return outbox.deliver_pending()


def init_app(app: Any) -> None:
    """Wake the worker after each commit that queued mail or made a journey step due
    (``services.wakeups``): the request only enqueues, the worker does the work. With
    ``WAKE_IN_BACKGROUND`` (the default outside tests) a thread of the process enqueues, so
    a commit does not wait for the queue either (``wakeups.Coalesced``)."""
    wakeups.on_commit("mail", _mail_queued)
    wakeups.on_commit("journeys", _journeys_due)
    wakeups.on_commit("imports", wake_importer)
    wakeups.listen()
    import_jobs.keep_progress_in(huey.put, lambda key: huey.get(key, peek=True), huey.delete)


def _in_background() -> bool:
    return has_app_context() and bool(current_app.config.get("WAKE_IN_BACKGROUND"))


def _mail_queued() -> None:
    """After a commit that queued mail: wake the mail worker, unless this is the worker,
    whose job delivers the outbox itself when it ends."""
    if has_app_context() and current_app.config.get("WORKER_DELIVERS_MAIL"):
        return
    if _in_background():
        _wake_mailer_soon()
    else:
        wake_mailer()


def _journeys_due() -> None:
    """After a commit that enrolled someone or woke an enrolment: wake the journey runner."""
    if _in_background():
        _wake_journeys_soon()
    else:
        wake_journeys()


def wake_mailer() -> None:
    """Ask the worker to deliver the outbox now. Only enqueues, so a request never waits on
    SMTP; if the queue itself is away, the periodic job delivers within a minute."""
    try:
        deliver_outbox_task()
    except Exception:  # noqa: BLE001 (the mail is in the outbox either way)
        log.warning("could not wake the mail worker; the periodic job will deliver", exc_info=True)


@huey.task()
def run_journeys_task() -> int:
    """Advance the journeys' due enrolments now: queued by ``wake_journeys`` after an event
    enrolled someone or woke a waiting enrolment, so a follow-up leaves within seconds."""
    with _worker_app().app_context():
        return _run_journeys(journey_runner)


@huey.periodic_task(crontab(minute="*"))
def run_journeys_periodically() -> int:
    """Waits and deadlines fall due without an event to wake the worker: look every minute."""
    with _worker_app().app_context():
        return _run_journeys(journey_runner)


@huey.periodic_task(crontab(minute="*/15"))
def enrol_journey_occasions() -> int:
    """Enter the birthdays, joining anniversaries and silences that fell due (each once:
    the sweep looks back a day), then advance them."""
    with _worker_app().app_context():
        entered = journey_occasions.enrol_occasions()
        _run_journeys(journey_runner)
        return entered


def _run_journeys(runner: Any) -> int:
    """Batches until nothing is due (a batch can make more due: a tag starts a journey),
    then the outbox, so the messages the steps queued leave at once."""
    advanced = total = runner.run_due()
    while advanced >= runner.BATCH:
        advanced = runner.run_due()
        total += advanced
    if total:
        outbox.deliver_pending()
    return total


def wake_journeys() -> None:
    """Ask the worker to advance the journeys now (after a commit that enrolled someone).
    Only enqueues; if the queue is away, the periodic job advances them within a minute."""
    try:
        run_journeys_task()
    except Exception:  # noqa: BLE001 (the enrolments are due either way)
        log.warning("could not wake the journey worker; the periodic job will run", exc_info=True)


_wake_mailer_soon = wakeups.Coalesced(wake_mailer, "mail")
_wake_journeys_soon = wakeups.Coalesced(wake_journeys, "journeys")


@huey.task()
def run_imports_task() -> int:
    """Import the queued files now: queued by ``wake_importer`` after a marketer started
    the import of a file too large for the request."""
    with _worker_app().app_context():
        return _run_imports()


@huey.periodic_task(crontab(minute="*"))
def run_imports_periodically() -> int:
    """A wake-up lost with the queue, or an import whose worker died: look every minute."""
    with _worker_app().app_context():
        return _run_imports()


def _run_imports() -> int:
    taken = import_jobs.run_queued(emails.confirmation)
    if taken:
        outbox.deliver_pending()
    return taken


def wake_importer() -> None:
    """Ask the worker to import the queued files now. Only enqueues; if the queue is away,
    the periodic job imports them within a minute."""
    try:
        run_imports_task()
    except Exception:  # noqa: BLE001 (the file stays queued either way)
        log.warning("could not wake the import worker; the periodic job will run", exc_info=True)
