"""Clicks on referral links and QR codes: the hot path behind ``/r/<code>``.

A click costs one indexed lookup (:func:`resolve_code`, cached for a few seconds per process:
codes never change owner, and a campaign that is closed or renamed is seen within
``CODE_CACHE_SECONDS``) and one insert (:func:`record_click`). With ``CLICK_BUFFER`` on (the
default outside tests) the insert leaves the request's critical path: clicks are queued in
memory and written in batches by a background thread every ``CLICK_FLUSH_SECONDS``, and at
process exit, so a graceful stop loses none (a hard kill can lose the last fraction of a
second). The clicks of each campaign and of each link are counted in the same transaction
(``services.counters``): one multi-row upsert per batch, a row per counter it touches.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, insert, select

from referral.domain.codes import is_well_formed
from referral.extensions import db
from referral.hashing import hash_ip, keyed_hash
from referral.models import Campaign, Click, Participation
from referral.models.base import utcnow
from referral.services import counters
from referral.services.rows import first_row

# Where a link was shared. Anything else is counted as a plain ``link``.
CHANNELS = ("link", "qr", "whatsapp", "email", "x", "line", "wechat", "copy")
SHARE_TARGETS = ("copy", "email", "whatsapp", "x", "line", "wechat")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
UTM_MAX = 200


@dataclass(frozen=True)
class LinkTarget:
    """What a referral code points at: its participation and that one's campaign."""

    code: str
    participation_id: int
    campaign_id: int
    campaign_slug: str
    campaign_name: str
    campaign_status: str
    attribution_days: int

    @property
    def public(self) -> bool:
        """Drafts are not public: their links answer 404 and are not counted."""
        return self.campaign_status != "draft"


log = logging.getLogger("referral.clicks")
CODE_CACHE_SECONDS = 5.0
CODE_CACHE_SIZE = 50_000
_codes: dict[str, tuple[float, LinkTarget | None]] = {}


def resolve_code(code: str | None) -> LinkTarget | None:
    """The participation that owns ``code`` and its campaign, in one indexed lookup
    (served from a short per-process cache on repeats).

    Returns None for a malformed code (without asking the database) or an unknown one.
    """
    if not code or not is_well_formed(code):
        return None
    cached = _codes.get(code)
    now = time.monotonic()
    ttl = float(current_app.config.get("CODE_CACHE_SECONDS", CODE_CACHE_SECONDS))
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    target = _lookup(code)
    if len(_codes) >= CODE_CACHE_SIZE:
        _codes.clear()
    _codes[code] = (now, target)
    return target


def forget_codes() -> None:
    """Empty the code cache (tests, or after bulk changes)."""
    _codes.clear()


# Built once: a referral code's owner and campaign, read on the driver (``first_row``) for
# every ``/r/<code>`` and ``?ref=`` the code cache does not hold yet.
_BY_CODE = (
    select(
        Participation.id,
        Participation.campaign_id,
        Campaign.slug,
        Campaign.name,
        Campaign.status,
        Campaign.attribution_days,
    )
    .join(Campaign, Campaign.id == Participation.campaign_id)
    .where(Participation.referral_code == bindparam("code"))
)


def _lookup(code: str) -> LinkTarget | None:
    row = first_row(_BY_CODE, {"code": code})
    if row is None:
        return None
    return LinkTarget(code, *row)


def clean_channel(raw: str | None) -> str:
    """A channel from the whitelist; unknown or missing values count as ``link``."""
    value = (raw or "").strip().lower()
    return value if value in CHANNELS else "link"


def clean_utm(params: Mapping[str, str]) -> dict[str, str]:
    """The five standard ``utm_*`` parameters, trimmed; everything else is dropped."""
    found = {}
    for key in UTM_KEYS:
        value = (params.get(key) or "").strip()
        if value:
            found[key] = value[:UTM_MAX]
    return found


def record_click(
    target: LinkTarget,
    channel: str,
    utm: Mapping[str, str] | None = None,
    ip: str | None = None,
    visitor_id: str | None = None,
) -> None:
    """Log one visit through ``target``'s link.

    The IP address and the visitor id are stored only as keyed hashes. Written at once, or
    queued for the background writer when ``CLICK_BUFFER`` is on.
    """
    secret = current_app.config["SECRET_KEY"]
    row = {
        "campaign_id": target.campaign_id,
        "participation_id": target.participation_id,
        "channel": clean_channel(channel),
        "utm": clean_utm(utm or {}),
        "ip_hash": hash_ip(secret, ip),
        "visitor_hash": keyed_hash(secret, visitor_id, "visitor") if visitor_id else None,
        "created_at": utcnow(),
    }
    if current_app.config.get("CLICK_BUFFER"):
        # ``current_app`` is typed as the app, not as the proxy it is
        ClickWriter.for_app(current_app._get_current_object()).put(row)  # type: ignore[attr-defined]
        return
    db.session.execute(insert(Click), [row])
    counters.clicked([row])
    db.session.commit()


class ClickWriter:
    """One per process and app: a queue of clicks and the thread that writes them."""

    _writers: dict[int, ClickWriter] = {}
    _guard = threading.Lock()

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.interval = float(app.config.get("CLICK_FLUSH_SECONDS", 0.25))
        self.thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    @classmethod
    def for_app(cls, app: Flask) -> ClickWriter:
        writer = cls._writers.get(id(app))
        if writer is None:
            with cls._guard:
                writer = cls._writers.get(id(app))
                if writer is None:
                    writer = cls._writers[id(app)] = cls(app)
        return writer

    def put(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.rows.append(row)

    def _run(self) -> None:
        while True:
            self.wake.wait(self.interval)
            self.wake.clear()
            try:
                self.flush()
            except Exception:  # the writer must survive a database hiccup; rows are kept
                log.exception("writing clicks failed; retrying")

    def flush(self) -> int:
        """Write every queued click in one transaction; on failure they stay queued."""
        with self.lock:
            rows, self.rows = self.rows, []
        if not rows:
            return 0
        try:
            with self.app.app_context():
                db.session.execute(insert(Click), rows)
                counters.clicked(rows)
                db.session.commit()
                db.session.remove()
        except Exception:
            with self.lock:
                self.rows[:0] = rows
            raise
        return len(rows)
