"""Background jobs (huey): mail delivery, woken by the requests that queue mail (and every
minute as a safety net), and the trial reminder job, every ten minutes.

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

from huey import Huey, RedisHuey, SqliteHuey, crontab

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
    from referral import create_app, emails
    from referral.services import outbox, trials

    with create_app().app_context():
        return trials.send_reminders(emails.trial_ending), outbox.deliver_pending()


_app = None


def _worker_app() -> Any:
    """One application per worker process (building one per task would cost more than
    the task)."""
    global _app  # noqa: PLW0603
    if _app is None:
        from referral import create_app

        _app = create_app()
    return _app


@huey.task()
def deliver_outbox_task() -> int:
    """Deliver the outbox now: queued by ``wake_mailer`` after a request queued mail."""
    from referral.services import outbox

    with _worker_app().app_context():
        return outbox.deliver_pending()


@huey.periodic_task(crontab(minute="*"))
def deliver_outbox_periodically() -> int:
    """Retries fall due without a request to wake the worker: look every minute."""
    from referral.services import outbox

    with _worker_app().app_context():
        return outbox.deliver_pending()


def wake_mailer() -> None:
    """Ask the worker to deliver the outbox now. Only enqueues, so a request never waits on
    SMTP; if the queue itself is away, the periodic job delivers within a minute."""
    try:
        deliver_outbox_task()
    except Exception:  # noqa: BLE001 (the mail is in the outbox either way)
        log.warning("could not wake the mail worker; the periodic job will deliver", exc_info=True)
