"""What is kept only so long: every hour, the personal mentions older than the setting lose
their words and identity (monitor.privacy), a batch per transaction; and the rows whose use is
over (core.housekeeping: login throttles, used reset links, past rate windows)."""

from __future__ import annotations

import time
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from core.clock import utcnow
from core.housekeeping import prune
from monitor.privacy import BATCH, remove_expired
from publisher.media import forget_unattached
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


def prune_spent_rows(services: Services) -> dict[str, int]:
    with services.db.session() as session:
        pruned = prune(session)
        pruned["media_files"] = forget_unattached(session, services.settings.instance_path)
        return pruned


def add_privacy_jobs(scheduler: BaseScheduler, services: Services) -> None:
    add_job(scheduler, "remove_expired_personal_data",
            lambda: remove_expired_personal_data(services), "interval",
            seconds=EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + timedelta(minutes=2), jitter=60)
    add_job(scheduler, "prune_spent_rows", lambda: prune_spent_rows(services), "interval",
            seconds=EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + timedelta(minutes=3), jitter=60)
