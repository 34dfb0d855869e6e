"""Run the same work from several threads at once, each with its own app context and
database session, as concurrent requests would."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from referral.extensions import db


def race(app: Flask, n: int, work: Callable[[int], object]) -> list[BaseException]:
    """Start ``work(0)`` … ``work(n-1)`` together (a barrier); the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                work(i)
            except Exception as exc:  # collected for the test to assert on
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
