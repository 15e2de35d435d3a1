"""What the monitoring jobs are wired with."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from core import migrate
from core.clock import utcnow
from core.settings import Settings
from monitor.fetch import FetchError
from monitor.models import Source, SourceKind, SourcePoll, SourceState
from publisher.services import Services
from schedules.monitoring import add_monitoring_jobs, build_fetcher
from tests.conftest import build_services
from tests.monitor.feedserver import FeedServer, rss


def test_with_the_sandbox_on_its_demo_feeds_can_be_polled_without_an_allow_list(services,
                                                                                sandbox):
    """`megafon worker` with MEGAFON_SANDBOX_URL on loopback reads the demo news feeds."""
    fetcher = build_fetcher(services)
    answer = fetcher.fetch(f"{sandbox.url}/sandbox/news/")
    assert answer.status == 200 and answer.body


def test_with_the_sandbox_off_loopback_stays_refused(tmp_path, sandbox):
    settings = Settings.from_env({}, instance_path=tmp_path / "instance",
                                 database_url=f"sqlite:///{tmp_path / 'm.db'}", sandbox="off",
                                 secret_key="test-secret")
    migrate.upgrade(settings.database_url)
    real = Services.from_settings(settings)
    try:
        with pytest.raises(FetchError) as refused:
            build_fetcher(real).fetch(f"{sandbox.url}/sandbox/news/")
        assert refused.value.kind == "blocked"
    finally:
        real.db.dispose()


# --- One slow source never delays the others (issue 14, finding 8) ----------------------------


def polls(db, source_id: int) -> list[SourcePoll]:
    with db.session() as session:
        return list(session.scalars(select(SourcePoll).where(SourcePoll.source_id == source_id)
                                    .order_by(SourcePoll.id)))


def add_feed(db, name: str, url: str, interval_seconds: int) -> int:
    with db.session() as session:
        source = Source(name=name, kind=SourceKind.FEED, outlet=name, url=url,
                        interval_seconds=interval_seconds, state=SourceState.OK,
                        next_poll_at=utcnow())
        session.add(source)
        session.flush()
        return source.id


def test_one_slow_source_never_delays_the_others(tmp_path, sandbox, caplog):
    """The worker's own wiring, on a real scheduler: a feed that takes until its time limit
    holds one thread; the fast feed, due every second, is polled on every tick meanwhile, and
    the job never overlaps itself ("maximum number of running instances reached")."""
    services = build_services(tmp_path / "instance", f"sqlite:///{tmp_path / 'm.db'}",
                              sandbox.url, fetch_allow="127.0.0.1", fetch_timeout_seconds=8)
    scheduler = BackgroundScheduler(timezone="UTC")
    with FeedServer() as server, caplog.at_level(logging.WARNING):
        slow = add_feed(services.db, "Slow", server.add("/slow.xml", body=rss("Slow", []),
                                                        delay=30), 3600)
        fast = add_feed(services.db, "Fast", server.add("/fast.xml", body=rss("Fast", [])), 1)
        add_monitoring_jobs(scheduler, services, "w1")
        scheduler.start()
        try:
            slow_done = False
            fast_before_slow = 0
            deadline = time.monotonic() + 60
            while not slow_done and time.monotonic() < deadline:
                slow_done = bool(polls(services.db, slow))
                if not slow_done:
                    fast_before_slow = len(polls(services.db, fast))
                threading.Event().wait(0.1)  # looking again at the condition, not a delay
        finally:
            scheduler.shutdown()
    try:
        assert slow_done, "the slow feed's poll was never recorded"
        assert polls(services.db, slow)[0].outcome == "error"  # its time limit, said clearly
        assert fast_before_slow >= 3, fast_before_slow
        assert "maximum number of running instances" not in caplog.text
    finally:
        services.db.dispose()
