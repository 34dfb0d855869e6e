"""The buffered click writer: clicks leave the request path but are never dropped."""

from __future__ import annotations

from sqlalchemy import func, select

from referral.extensions import db
from referral.models import Click
from referral.services import clicks
from tests.factories import Factory


def _target(factory: Factory):
    campaign = factory.campaign(status="live")
    owner = factory.participation(campaign)
    db.session.commit()
    return clicks.resolve_code(owner.referral_code)


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Click)) or 0


def test_buffered_clicks_are_written_in_one_batch_when_flushed(app, factory: Factory) -> None:
    target = _target(factory)
    app.config.update(CLICK_BUFFER=True, CLICK_FLUSH_SECONDS=3600)  # only explicit flushes
    writer = clicks.ClickWriter.for_app(app)
    for i in range(25):
        clicks.record_click(target, "qr", {"utm_source": "poster"}, f"10.0.0.{i}", f"v{i}")
    assert _count() == 0
    assert writer.flush() == 25
    assert _count() == 25
    assert writer.flush() == 0


def test_the_background_writer_stores_clicks_without_an_explicit_flush(
    app, factory: Factory
) -> None:
    target = _target(factory)
    app.config.update(CLICK_BUFFER=True, CLICK_FLUSH_SECONDS=0.05)
    clicks.ClickWriter._writers.pop(id(app), None)
    writer = clicks.ClickWriter.for_app(app)
    clicks.record_click(target, "link")
    writer.wake.set()
    writer.thread.join(timeout=0.5)
    assert _count() == 1


def test_clicks_stay_queued_when_a_write_fails(app, factory: Factory, monkeypatch) -> None:
    target = _target(factory)
    app.config.update(CLICK_BUFFER=True, CLICK_FLUSH_SECONDS=3600)
    clicks.ClickWriter._writers.pop(id(app), None)
    writer = clicks.ClickWriter.for_app(app)
    clicks.record_click(target, "link")
    original = db.session.execute

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(db.session, "execute", broken)
    try:
        writer.flush()
    except RuntimeError:
        pass
    monkeypatch.setattr(db.session, "execute", original)
    assert len(writer.rows) == 1
    assert writer.flush() == 1
    assert _count() == 1


def test_a_cached_code_is_looked_up_once_within_the_cache_time(
    app, factory: Factory, monkeypatch
) -> None:
    campaign = factory.campaign(status="live")
    owner = factory.participation(campaign)
    app.config["CODE_CACHE_SECONDS"] = 60
    clicks.forget_codes()
    calls = []
    real = clicks._lookup
    monkeypatch.setattr(clicks, "_lookup", lambda code: calls.append(code) or real(code))
    first = clicks.resolve_code(owner.referral_code)
    second = clicks.resolve_code(owner.referral_code)
    clicks.forget_codes()
    assert first == second and first is not None
    assert calls == [owner.referral_code]
