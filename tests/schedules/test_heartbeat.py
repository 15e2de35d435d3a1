"""A running worker's scheduler says it is alive from its first second."""

from __future__ import annotations

import time

from apscheduler.schedulers.background import BackgroundScheduler

from core.workers import WorkerHeartbeat, alive
from schedules.jobs import add_jobs


def test_a_started_worker_beats(services):
    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, services, "w-beat")
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with services.db.session() as session:
                if session.get(WorkerHeartbeat, "w-beat") is not None:
                    break
            time.sleep(0.1)
    finally:
        scheduler.shutdown()
    with services.db.session() as session:
        assert alive(session)[0] == 1
