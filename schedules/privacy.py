"""The retention of private persons' data: every hour, the personal mentions older than the
setting lose their words and identity (monitor.privacy), a batch per transaction."""

from __future__ import annotations

import time
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from core.clock import utcnow
from monitor.privacy import BATCH, remove_expired
from publisher.services import Services
from schedules.guard import add_job

EVERY = timedelta(hours=1)
BUDGET_SECONDS = 240.0


def remove_expired_personal_data(services: Services) -> int:
    started, done = time.monotonic(), 0
    while time.monotonic() - started < BUDGET_SECONDS:
        with services.db.session() as session:
            batch = remove_expired(session, services.settings.personal_data_days)
        done += batch
        if batch < BATCH:
            break
    return done


def add_privacy_jobs(scheduler: BaseScheduler, services: Services) -> None:
    add_job(scheduler, "remove_expired_personal_data",
            lambda: remove_expired_personal_data(services), "interval",
            seconds=EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + timedelta(minutes=2), jitter=60)
