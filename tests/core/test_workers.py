"""Workers say they are alive; a worker silent for two minutes counts as gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.workers import ALIVE_WITHIN, WorkerHeartbeat, alive, beat

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_worker_is_alive_until_it_falls_silent(db):
    beat(db, "w1", now=NOW - timedelta(minutes=10))
    beat(db, "w1", now=NOW - timedelta(seconds=30))
    beat(db, "w2", now=NOW - ALIVE_WITHIN - timedelta(seconds=1))
    with db.session() as session:
        assert alive(session, NOW) == (1, NOW - timedelta(seconds=30))
        assert alive(session, NOW + ALIVE_WITHIN) == (0, NOW - timedelta(seconds=30))
        first = session.get(WorkerHeartbeat, "w1")
        assert first is not None and first.started_at == NOW - timedelta(minutes=10)


def test_workers_gone_for_a_day_are_forgotten(db):
    beat(db, "old", now=NOW - timedelta(days=2))
    beat(db, "new", now=NOW)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 1
        assert alive(session, NOW) == (1, NOW)


def test_nobody_has_beaten_yet(db):
    with db.session() as session:
        assert alive(session, NOW) == (0, None)
