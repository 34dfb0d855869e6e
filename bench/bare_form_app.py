"""The baseline for bench/signup_http.py: a bare Flask form whose POST inserts one row.

The same pages a visitor goes through on a landing page, with nothing behind them: the form
(``GET /c/<slug>``), its POST, which inserts one row into ``bare_signups`` in one commit and
answers 303, and the page it redirects to. No CSRF, no cookies, no templates, no rate limits.
The database is ``DATABASE_URL`` (the benchmark creates the table beforehand); SQLite
gets the pragmas the real app sets (WAL, synchronous=NORMAL, a busy timeout).
"""

from __future__ import annotations

import html
import os
import time
from typing import Any

from flask import Flask, redirect, request
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, event

metadata = MetaData()
signups = Table(
    "bare_signups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)

if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


PAGE = """<!doctype html><title>Bench</title>
<form method="post" action="/c/{slug}">
<input type="hidden" name="started" value="{started}">
<input type="email" name="email"> <input type="text" name="website" value="">
<input type="checkbox" name="consent" value="y"> <button>Join</button>
</form>"""


@app.route("/c/<slug>", methods=["GET", "POST"])
def form(slug: str) -> Any:
    if request.method == "GET":
        return PAGE.format(slug=html.escape(slug), started=int(time.time() * 1000))
    with engine.begin() as connection:
        connection.execute(
            signups.insert(), {"email": request.form["email"], "created_at": time.time()}
        )
    return redirect(f"/c/{slug}/joined", 303)


@app.route("/c/<slug>/joined")
def joined(slug: str) -> str:
    return "<!doctype html><title>Bench</title><p>Check your inbox.</p>"
